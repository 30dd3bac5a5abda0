"""Failover and disks against their analytic results.

- A lost array fails over as a failed server does: cameras × delay × arrays lost.
- N+k failover (k = the servers, so no outage waits for a standby): every server failure of
  a week loses exactly its cameras × the failover delay (60 s on a 10 s grid), i.e. lost
  camera-hours = cameras × delay × failures; without failover the same week loses the whole
  outages; N+1 with two servers loses at least as much as N+2.
- Rebuild time = disk size / rebuild rate; in a run, a rebuild no failure interrupted lasts
  exactly that.
- RAID 5 and RAID 6 over ~30,000-130,000 disk failures: the share that meets a second
  failure during the rebuild is 1 - exp(-(n-1)λT), and the share that loses the array is
  the closed form (RAID 5 the same, RAID 6 × (1 - exp(-(n-2)λT))), within 4 standard errors.
- Degraded mode: with disks that write 16 Mbps and keep half of it while rebuilding, a
  12 Mbps server loses a third of its 3 cameras in every degraded tick, exactly.
- Dual recording: sub-streams at 1/10 of the main add exactly 10 % to the daily write.
- Off by default: the same scenario with neither gives the report it gave before.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from simulator.model.city import City
from simulator.model.disks import array_history, loss_p, rebuild_s, second_failure_p
from simulator.model.sizing import simulate
from simulator.model.world import world_events
from simulator.scenario.recording import Disks

FAILING_SERVERS = (
    "simulation.days=7",
    "recording.servers.0.reliability.mtbf_h=20",
    "recording.servers.0.reliability.mttr_h=4",
    "recording.servers.1.reliability.mtbf_h=20",
    "recording.servers.1.reliability.mttr_h=4",
)
CAMERAS = {"rec-north": 3, "rec-south": 2}
STANDBYS_NEVER_FAIL = "recording.failover.reliability={mtbf_h: 1.0e+12, mttr_h: 1}"


def test_n_plus_k_failover_loses_only_the_delay(load) -> None:
    scenario = load("cbr_city", *FAILING_SERVERS, "recording.failover.standby=2",
                    "recording.failover.delay_s=60", STANDBYS_NEVER_FAIL)  # fmt: skip
    events = world_events(City.of(scenario))
    failures = {name: 0 for name in CAMERAS}
    down_at: dict[str, float] = {}
    for e in events:
        if e.kind == "server_down":
            failures[e.server] += 1
            down_at[e.server] = e.t
        elif e.kind == "server_up":
            assert e.t - down_at.pop(e.server) > 60, "an outage shorter than the delay"
    horizon = 7 * 86400
    assert all(horizon - t > 60 for t in down_at.values())  # none cut short by the run's end
    assert sum(failures.values()) >= 10
    results = simulate(scenario)
    expected_h = sum(CAMERAS[s] * 60 * n for s, n in failures.items()) / 3600
    assert results.recording.lost_hours["server"] == pytest.approx(expected_h, rel=1e-9)
    r = results.resilience
    assert r.failovers == r.outages == sum(failures.values())
    assert r.covered_camera_hours > 20 * expected_h

    without = simulate(load("cbr_city", *FAILING_SERVERS))
    assert without.recording.lost_hours["server"] == pytest.approx(
        expected_h + r.covered_camera_hours, rel=1e-6
    )
    one = simulate(
        load("cbr_city", *FAILING_SERVERS, "recording.failover.standby=1", STANDBYS_NEVER_FAIL)
    )
    assert one.recording.lost_hours["server"] >= expected_h * (1 - 1e-9)


def test_a_lost_array_fails_over_like_a_failed_server(load) -> None:
    d = "recording.servers.0.disks"
    scenario = load(
        "cbr_city", "simulation.days=7", f"{d}.mtbf_h=50", f"{d}.size_tb=1", f"{d}.raid=raid5",
        "recording.failover.standby=1", "recording.failover.delay_s=60",
    )  # fmt: skip
    results = simulate(scenario)
    (north,) = results.resilience.servers
    assert north.arrays_lost >= 3  # each down for a rebuild time (2.8 h), far above the delay
    expected_h = CAMERAS["rec-north"] * 60 * north.arrays_lost / 3600
    assert results.recording.lost_hours["disks"] == pytest.approx(expected_h, rel=1e-9)
    assert results.recording.lost_hours["server"] == 0
    assert results.resilience.failovers == north.arrays_lost


def test_rebuild_time_is_size_over_rate(load) -> None:
    assert rebuild_s(Disks(size_tb=16, rebuild_mbyte_s=100)) == 160_000.0
    assert rebuild_s(Disks(size_tb=1, rebuild_mbyte_s=40)) == 25_000.0
    d = Disks(count=12, size_tb=1, rebuild_mbyte_s=100, raid="raid6", mtbf_h=200)
    h = array_history(d, 30 * 86400, np.random.default_rng(3))
    single = [
        (a, b) for a, b in h.degraded
        if b < 30 * 86400 and ((h.failures >= a) & (h.failures < b)).sum() == 1
    ]  # fmt: skip
    assert len(single) >= 10
    np.testing.assert_allclose([b - a for a, b in single], 10_000.0, rtol=1e-12)


@pytest.mark.parametrize(("raid", "mtbf_h"), [("raid5", 278.0), ("raid6", 100.0), ("raid6", 30.0)])
def test_raid_second_failure_and_loss_against_the_closed_form(raid: str, mtbf_h: float) -> None:
    d = Disks(count=12, size_tb=1, rebuild_mbyte_s=100, raid=raid, mtbf_h=mtbf_h)
    t_h = rebuild_s(d) / 3600
    h = array_history(d, 3e9, np.random.default_rng(11))
    n = h.episodes
    assert n > 30_000
    for seen, p in (
        (h.second_failures, second_failure_p(12, mtbf_h, t_h)),
        (len(h.lost), loss_p(raid, 12, mtbf_h, t_h)),
    ):
        assert abs(seen / n - p) < 4 * math.sqrt(p * (1 - p) / n), (seen / n, p)
    x = t_h / mtbf_h
    assert loss_p("raid5", 12, mtbf_h, t_h) == pytest.approx(1 - math.exp(-11 * x), rel=1e-12)
    assert loss_p("raid6", 12, mtbf_h, t_h) == pytest.approx(
        (1 - math.exp(-11 * x)) * (1 - math.exp(-10 * x)), rel=1e-12
    )


def test_degraded_mode_loses_what_the_array_cannot_write(load) -> None:
    d = "recording.servers.0.disks"
    scenario = load(
        "cbr_city",
        "simulation.days=7",
        f"{d}.mtbf_h=200",
        f"{d}.size_tb=1",
        f"{d}.write_mbyte_s_per_disk=0.2",
        f"{d}.degraded_write_factor=0.5",
    )
    results = simulate(scenario)
    (north,) = results.resilience.servers
    assert north.failures >= 5 and north.arrays_lost == 0
    # RAID 6 of 12: 10 data disks × 0.2 MB/s × 8 = 16 Mbps, half while rebuilding: 8 of 12
    lost_per_tick = 3 * (1 - 8 / 12)
    lost = results.recording.lost_hours
    assert lost["degraded"] == pytest.approx(lost_per_tick * north.degraded_hours, rel=1e-6)
    assert lost["disks"] == 0
    expected = results.recording.expected_hours
    assert results.recording.recorded_hours == pytest.approx(expected - lost["degraded"], rel=1e-9)
    # and the demand it did not store: 12 - 8 = 4 Mbps while degraded, TB a day of the week
    not_stored_tb = 4e6 / 8 * north.degraded_hours * 3600 / 1e12 / 7
    assert results.sizing.daily_lost_tb["degraded"] == pytest.approx(not_stored_tb, rel=1e-6)


def test_dual_recording_adds_the_sub_stream(load) -> None:
    subs = ("cameras.0.sub_stream.enabled=true", "cameras.1.sub_stream.enabled=true")
    main = simulate(load("cbr_city", *subs)).sizing
    dual = simulate(load("cbr_city", *subs, "recording.record_sub_streams=true")).sizing
    assert dual.daily_write_tb == pytest.approx(1.1 * main.daily_write_tb, rel=1e-6)
    assert main.daily_write_tb == pytest.approx((3 * 4 + 2 * 2.5) * 86400 / 8 / 1e6, rel=1e-6)


def test_off_by_default(load) -> None:
    plain = simulate(load("outages"))
    assert plain.resilience is None
    assert set(plain.recording.lost_hours) == {
        "camera", "link", "server", "unassigned", "overload", "congestion"
    }  # fmt: skip


def test_degraded_loss_is_counted_inside_the_run_chunk_by_chunk(load, monkeypatch) -> None:
    """The degraded arrays' loss is counted in the chunk loop, chunk after chunk, as every
    other cause (it was computed after the run from the whole run's stored ingest): with
    one-hour chunks, rebuilds cross chunk boundaries, and the loss is still exactly what the
    array cannot write in every degraded tick, as with the whole week in one chunk."""
    import simulator.model.sizing as sizing
    from simulator.model.resilience import RecorderFailures

    d = "recording.servers.0.disks"
    scenario = load(
        "cbr_city", "simulation.days=7", f"{d}.mtbf_h=200", f"{d}.size_tb=1",
        f"{d}.write_mbyte_s_per_disk=0.2", f"{d}.degraded_write_factor=0.5",
    )  # fmt: skip
    whole = simulate(scenario).recording.lost_hours["degraded"]
    chunks: list[tuple[int, int]] = []
    record = RecorderFailures.record

    def seen(self, acc, a: int, b: int) -> None:
        chunks.append((a, b))
        record(self, acc, a, b)

    monkeypatch.setattr(RecorderFailures, "record", seen)
    ticks = round(7 * 86400 / scenario.simulation.resolution_s)
    per_chunk = 3600 // scenario.simulation.resolution_s
    monkeypatch.setattr(sizing, "CHUNK_CELLS", 5 * per_chunk)  # 5 cameras: an hour a chunk
    results = simulate(scenario)
    assert len(chunks) == -(-ticks // per_chunk) and chunks[0][0] == 0 and chunks[-1][1] == ticks
    assert all(b == a2 for (_, b), (a2, _) in zip(chunks, chunks[1:], strict=False))
    (north,) = results.resilience.servers
    lost = results.recording.lost_hours["degraded"]
    assert lost == pytest.approx(3 * (1 - 8 / 12) * north.degraded_hours, rel=1e-6)
    assert lost == pytest.approx(whole, rel=1e-9)
