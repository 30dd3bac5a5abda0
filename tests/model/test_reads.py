"""The recorders' read load against AxxonSoft's formula and the actions it comes from.

- A constant playback load (back-to-back reviews at × 4 of a 4 Mbps CBR camera, bounds off
  the tick grid) on a server recording 12 Mbps: read IOPS = 0.035 × 12 + 0.035 × 4 × 4 in
  every tick, and disk IOPS = 0.065 × 12 × 6 (RAID 6) + that, to 1e-9.
- A CBR city without operators: each server's read IOPS are 0.035 × the Mbps it records.
- Per-tick means of arbitrary spans equal a brute-force overlap sum.
- A city with operators: the bytes read from disk and relayed live are those of the
  timeline's actions (`action_events`): every review's and export's recording length ×
  the camera's rate, every live action's duration × the rate (bounded by the actions that
  end within the run and all of them).
- Slow disks: the `disk_iops` constraint needs ceil(p99 back-end IOPS / array IOPS) servers
  and binds.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from simulator.model.actions import action_events
from simulator.model.city import City
from simulator.model.reads import (
    DISK_READS,
    LIVE,
    ReadSpans,
    event_spans,
    per_tick,
    read_stats,
)
from simulator.model.sizing import simulate
from simulator.scenario.recording import Disks
from simulator.timeline.event import Event


def test_constant_playback_matches_axxonsoft() -> None:
    tick, ticks = 10, 8640
    horizon = tick * ticks
    review_s = 1234.5  # a review's operator time; the reviews follow each other
    starts = np.arange(0.0, horizon, review_s)
    events = [
        Event(float(t), "review", camera="c0",
              params={"duration_s": review_s, "length_s": review_s * 4, "speed": 4.0})
        for t in starts
    ]  # fmt: skip
    spans = event_spans(events, {"c0": 0}, np.array([0]), np.array([4.0]))
    m = 12.0  # three 4 Mbps CBR cameras recorded
    ingest = np.full((1, ticks), m)
    streams = np.full((1, ticks), 3.0)
    played = per_tick(spans, 1, tick, ticks)
    stats = read_stats(
        ["rec"], [Disks()], played, 0 * played, {}, ingest, streams, [[0]], 0.8, tick,
    )  # fmt: skip
    expected_read = 0.035 * m + 0.035 * 4.0 * 4.0
    assert stats.read_iops.shape == (1, 1440)  # 8640 ticks fold to steps of 6
    np.testing.assert_allclose(stats.read_iops, expected_read, rtol=1e-9)
    s = stats.servers[0]
    assert s.read_iops_mean == pytest.approx(expected_read, rel=1e-9)
    assert s.playback_mbyte_s_mean == pytest.approx(4.0 * 4.0 / 8, rel=1e-9)
    expected_disk = 0.065 * m * 6 + expected_read
    assert s.disk_iops_p99 == pytest.approx(expected_disk, rel=1e-9)
    assert s.disk_iops_capability == 12 * 150.0
    assert s.disk_load_p99 == pytest.approx(expected_disk / 1800.0, rel=1e-9)


def test_recording_alone_reads_0035_per_mbps(load) -> None:
    results = simulate(load("cbr_city"))
    assert results.watch is None and results.reads is not None
    assert results.reads.actions == {}
    recorded = {"rec-north": 3 * 4.0, "rec-south": 2 * 2.5}
    for srv in results.reads.servers:
        assert srv.read_iops_mean == pytest.approx(0.035 * recorded[srv.name], rel=1e-6)
        assert srv.playback_mbyte_s_mean == 0 and srv.live_mbps_mean == 0


def test_per_tick_equals_brute_force() -> None:
    rng = np.random.default_rng(5)
    n, tick, ticks = 200, 5, 300
    start = rng.uniform(-100, ticks * tick, n)
    end = start + rng.exponential(60, n)
    spans = ReadSpans(rng.integers(0, 3, n), start, end, rng.uniform(0.5, 8, n), np.ones(n, bool))
    want = np.zeros((3, ticks))
    for s, a, b, r in zip(spans.server, start, end, spans.mbps, strict=True):
        for k in range(ticks):
            want[s, k] += r * max(0.0, min(b, (k + 1) * tick) - max(a, k * tick)) / tick
    np.testing.assert_allclose(per_tick(spans, 3, tick, ticks), want, rtol=1e-9, atol=1e-9)
    # a stretch of ticks on its own, as the tours are added a day at a time
    part = per_tick(spans, 3, tick, 100, first=120)
    np.testing.assert_allclose(part, want[:, 120:220], rtol=1e-9, atol=1e-9)


def test_reads_are_the_timelines_actions(load) -> None:
    scenario = load(
        "load-city", "simulation.days=1.5", "cameras.0.bitrate.mode=cbr"
    )  # 2 tour chunks
    results = simulate(scenario)
    reads = results.reads
    assert reads is not None
    horizon = scenario.simulation.days * 86400
    events = action_events(City.of(scenario))
    rate = 0.3  # Mbps, both cameras (CBR)

    def bounds(kinds: tuple[str, ...], bits) -> tuple[float, float]:  # noqa: ANN001
        chosen = [e for e in events if e.kind in kinds]
        inside = sum(bits(e) for e in chosen if e.t + e.params["duration_s"] <= horizon)
        return inside, sum(bits(e) for e in chosen)

    disk_lo, disk_hi = bounds(DISK_READS, lambda e: rate * e.params["length_s"])
    live_lo, live_hi = bounds(LIVE, lambda e: rate * e.params["duration_s"])
    assert disk_lo > 0 and live_lo > 0
    srv = reads.servers[0]
    disk = srv.playback_mbyte_s_mean * 8 * horizon
    live = srv.live_mbps_mean * horizon
    assert disk_lo * (1 - 1e-6) <= disk <= disk_hi * (1 + 1e-6), (disk_lo, disk, disk_hi)
    assert live_lo * (1 - 1e-6) <= live <= live_hi * (1 + 1e-6), (live_lo, live, live_hi)
    counts = {k: sum(e.kind == k for e in events) for k in (*DISK_READS, *LIVE)}
    assert reads.actions == counts


def test_slow_disks_bind_on_disk_iops(load) -> None:
    scenario = load("cbr_city", "recording.servers.0.disks.iops_per_disk=0.125",
                    "recording.servers.1.disks.iops_per_disk=0.125")  # fmt: skip
    sizing = simulate(scenario).sizing
    # Each group on its own disks (12 × 0.125 IOPS, against the 0.8 planning line): north
    # records 3 cameras, 12 Mbps: writes 0.78 IOPS (× 6 for RAID 6), reads 0.035 × 12;
    # south 2 cameras, 5 Mbps: writes 0.58, reads 0.035 × 5.
    line = 0.8 * 12 * 0.125
    north, south = sizing.groups
    assert north.by_constraint["write_iops"] == math.ceil(0.78 / (line / 6)) == 4
    assert north.by_constraint["disk_iops"] == math.ceil((0.78 * 6 + 0.035 * 12) / line) == 5
    assert south.by_constraint["write_iops"] == math.ceil(0.58 / (line / 6)) == 3
    assert south.by_constraint["disk_iops"] == math.ceil((0.58 * 6 + 0.035 * 5) / line) == 4
    assert sizing.by_constraint["disk_iops"] == 9 and sizing.by_constraint["write_iops"] == 7
    assert sizing.binding == "disk_iops" and sizing.servers_needed == 9
