"""Storage: a CBR city writes exactly bitrate × time × cameras; retention deletion plateaus.

Units as in report.json: TB = 1e12 bytes; Mbps = 1e6 bit/s; the free-space reserve
(`recording.free_space_reserve_gb`, 1 GB = 1e9 bytes) is added once per server to its
`storage_needed_tb` and not to `daily_write_tb` (simulator/model/measures.py).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simulator.model.recorders import storage_fill, usable_tb, write_iops
from simulator.model.sizing import simulate
from simulator.scenario import load_scenario
from simulator.scenario.recording import Disks

TB = 1e12
REL = 1e-6  # the brief's "exact": relative 1e-6 (float32 accumulation is ~1e-7)

# tests/data/cbr_city.yaml: 3 × 4 Mbps in `north` (server rec-north), 2 × 2.5 Mbps in `south`.
NORTH_MBPS, SOUTH_MBPS = 3 * 4.0, 2 * 2.5
RESERVE_TB = 5 / 1000
RETENTION_DAYS = 30


def bytes_per_day(mbps: float) -> float:
    return mbps * 1e6 / 8 * 86400


@pytest.mark.parametrize(
    "days, resolution_s, sub_stream",
    [(1, 10, False), (2, 10, False), (1, 1, False), (1, 10, True), (3, 60, False)],
)
def test_cbr_city_stores_bitrate_times_time_times_cameras(load, days, resolution_s, sub_stream):
    s = load(
        "cbr_city",
        f"simulation.days={days}",
        f"simulation.resolution_s={resolution_s}",
        f"cameras.0.sub_stream.enabled={str(sub_stream).lower()}",
        f"cameras.1.sub_stream.enabled={str(sub_stream).lower()}",
    )
    r = simulate(s)

    # Nothing fails, nothing is lost: every camera-hour is recorded.
    assert r.recording.expected_hours == pytest.approx(5 * 24 * days, rel=REL)
    assert r.recording.recorded_hours == pytest.approx(5 * 24 * days, rel=REL)
    assert sum(r.recording.lost_hours.values()) == 0
    assert all(lk.loss_fraction == 0 for lk in r.links)

    # Written per day: the main streams only (a sub-stream is for live view, not recorded).
    daily = bytes_per_day(NORTH_MBPS + SOUTH_MBPS) / TB
    assert r.sizing.daily_write_tb == pytest.approx(daily, rel=REL)

    # At retention steady state each server holds retention_days of its cameras, + reserve.
    by_name = {srv.name: srv for srv in r.servers}
    assert by_name["rec-north"].cameras == 3
    assert by_name["rec-south"].cameras == 2
    north = RETENTION_DAYS * bytes_per_day(NORTH_MBPS) / TB + RESERVE_TB
    south = RETENTION_DAYS * bytes_per_day(SOUTH_MBPS) / TB + RESERVE_TB
    assert by_name["rec-north"].storage_needed_tb == pytest.approx(north, rel=REL)
    assert by_name["rec-south"].storage_needed_tb == pytest.approx(south, rel=REL)
    assert r.sizing.storage_needed_tb == pytest.approx(north + south, rel=REL)

    # Ingest is the CBR rate every second.
    assert by_name["rec-north"].ingest_mean_mbps == pytest.approx(NORTH_MBPS, rel=REL)
    assert by_name["rec-north"].ingest_max_mbps == pytest.approx(NORTH_MBPS, rel=REL)

    # The storage-fill series plateaus at the same figure (reserve not included there).
    fill = r.series.storage_fill_tb
    assert fill[0].max() == pytest.approx(north - RESERVE_TB, rel=REL)
    assert fill[0][-1] == pytest.approx(north - RESERVE_TB, rel=REL)


def test_retention_shorter_than_run_keeps_only_retention_days(load):
    s = load("cbr_city", "simulation.days=3", "recording.retention_days=1")
    r = simulate(s)
    north = {srv.name: srv for srv in r.servers}["rec-north"]
    assert north.storage_needed_tb == pytest.approx(
        bytes_per_day(NORTH_MBPS) / TB + RESERVE_TB, rel=REL
    )
    assert r.sizing.daily_write_tb == pytest.approx(
        bytes_per_day(NORTH_MBPS + SOUTH_MBPS) / TB, rel=REL
    )


@pytest.mark.parametrize("days", [0.1, 0.3, 2.5 / 24])
def test_cbr_storage_for_runs_not_a_whole_number_of_hours(load, days):
    s = load("cbr_city", f"simulation.days={days}")
    r = simulate(s)
    assert r.sizing.daily_write_tb == pytest.approx(
        bytes_per_day(NORTH_MBPS + SOUTH_MBPS) / TB, rel=REL
    )
    north = {srv.name: srv for srv in r.servers}["rec-north"]
    assert north.storage_needed_tb == pytest.approx(
        RETENTION_DAYS * bytes_per_day(NORTH_MBPS) / TB + RESERVE_TB, rel=REL
    )


# storage_fill on hand-made inputs ------------------------------------------------------------


def occupancy_loop(written: np.ndarray, retention_days: float) -> np.ndarray:
    """Occupied bytes after each hour: a plain loop deleting what is older than retention."""
    keep = int(round(retention_days * 24))
    hours = written.shape[1]
    horizon = keep + hours  # the run repeats: full through every hour of it
    out = np.zeros((written.shape[0], horizon + 1))
    for s in range(written.shape[0]):
        kept: list[float] = []
        for h in range(horizon):
            kept.append(written[s, h % hours])
            if len(kept) > keep:
                kept.pop(0)
            out[s, h + 1] = sum(kept)
    return out


def test_storage_fill_ramps_then_plateaus_at_retention_times_daily_volume():
    per_hour = np.array([[1.0] * 24, [3.0] * 24])  # two servers, one constant day
    days, occupied = storage_fill(per_hour, retention_days=2, days=1)
    assert days.shape == (24 * 3 + 1,)
    assert days[0] == 0 and days[-1] == 3
    assert occupied.shape == (2, 24 * 3 + 1)
    hours = np.arange(24 * 3 + 1)
    np.testing.assert_allclose(occupied[0], np.minimum(hours, 48) * 1.0)
    np.testing.assert_allclose(occupied[1], np.minimum(hours, 48) * 3.0)
    assert occupied.max(axis=1) == pytest.approx([2 * 24 * 1.0, 2 * 24 * 3.0])


def test_storage_fill_deletes_after_retention_on_a_varying_profile():
    rng = np.random.default_rng(3)
    per_hour = rng.uniform(0, 10, size=(3, 72))  # a 3-day run, retention 1 day
    _, occupied = storage_fill(per_hour, retention_days=1, days=3)
    np.testing.assert_allclose(occupied, occupancy_loop(per_hour, 1), rtol=1e-12, atol=1e-9)
    # once full, it holds exactly the last 24 hours written, past the run's end too (the
    # run repeats): 12 hours of its end and 12 of its start
    np.testing.assert_allclose(occupied[:, 50], per_hour[:, 26:50].sum(axis=1), rtol=1e-12)
    wrapped = per_hour[:, 60:].sum(axis=1) + per_hour[:, :12].sum(axis=1)
    np.testing.assert_allclose(occupied[:, 84], wrapped, rtol=1e-12)


def test_storage_fill_repeats_a_short_run_until_the_store_is_full():
    rng = np.random.default_rng(4)
    per_hour = rng.uniform(0, 5, size=(1, 24))
    _, occupied = storage_fill(per_hour, retention_days=7, days=1)
    np.testing.assert_allclose(occupied, occupancy_loop(per_hour, 7), rtol=1e-12, atol=1e-9)
    assert occupied.max() == pytest.approx(7 * per_hour.sum(), rel=1e-12)


# recorders' arithmetic -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raid, count, usable",
    [("raid0", 4, 64.0), ("raid1", 2, 16.0), ("raid5", 5, 64.0), ("raid6", 12, 160.0),
     ("raid10", 8, 64.0)],
)  # fmt: skip
def test_usable_capacity_of_raid_arrays(raid, count, usable):
    assert usable_tb(Disks(count=count, size_tb=16, raid=raid)) == pytest.approx(usable)


def test_write_iops_follows_axxonsoft_rule():
    # 0.065 × total Mbps when cameras average above 3.6 Mbps, else 0.29 × cameras
    mbps = np.array([400.0, 100.0, 0.0])
    cams = np.array([100.0, 100.0, 0.0])
    np.testing.assert_allclose(write_iops(mbps, cams), [0.065 * 400, 0.29 * 100, 0.0])


def test_storage_is_sized_for_the_demand_and_congestion_losses_are_reported_beside_it(load):
    """An uplink too small for its district loses a third of it to congestion; storage is
    still sized for what the cameras would record, and the loss is reported beside it."""
    s = load("cbr_city", "network.districts.0.uplink.capacity_mbps=8")  # north offers 12
    r = simulate(s)
    north = RETENTION_DAYS * bytes_per_day(NORTH_MBPS) / TB + RESERVE_TB
    south = RETENTION_DAYS * bytes_per_day(SOUTH_MBPS) / TB + RESERVE_TB
    assert r.sizing.storage_needed_tb == pytest.approx(north + south, rel=REL)
    assert r.sizing.daily_write_tb == pytest.approx(
        bytes_per_day(NORTH_MBPS + SOUTH_MBPS) / TB, rel=REL
    )
    # the fluid queue drops (12 - 8) / 12 of north once its 1 MiB buffer is full (after 2 s)
    lost = r.sizing.daily_lost_tb
    assert lost["congestion"] == pytest.approx(bytes_per_day(NORTH_MBPS) / 3 / TB, rel=1e-3)
    assert sum(v for k, v in lost.items() if k != "congestion") == 0
    assert r.recording.lost_hours["congestion"] == pytest.approx(3 * 24 / 3, rel=1e-3)


STRASBOURG = Path(__file__).parents[2] / "scenarios" / "strasbourg.yaml"


@pytest.mark.parametrize(
    "domes, mbps",
    [("complex", 410 * 4 + 40 * 4 * 1.5), ("normal", 450 * 4)],  # 609 TB; the rule's 583 TB
)
def test_a_cbr_strasbourg_stores_its_targets_times_the_scene_factor(domes, mbps):
    """The README's claim: with every group CBR, Strasbourg stores exactly its cameras'
    targets × 30 days, the 40 centre domes' complex scene × 1.5 included (609 TB); with the
    domes' scene normal, the rule of thumb's 450 × 4 Mbps × 30 days (583 TB)."""
    groups = len(load_scenario(STRASBOURG).cameras)
    cbr = [f"cameras.{n}.bitrate.mode=cbr" for n in range(groups)]
    s = load_scenario(
        STRASBOURG,
        [*cbr, f"cameras.0.scene={domes}", "simulation.resolution_s=60", "incidents.days=1"],
    )
    assert s.cameras[0].name == "centre-dome" and s.cameras[0].count == 40
    z = simulate(s).sizing
    servers = sum(g.count for g in s.recording.servers)
    expected = RETENTION_DAYS * bytes_per_day(mbps) / TB + servers * RESERVE_TB
    assert z.storage_needed_tb == pytest.approx(expected, rel=REL)
    assert round(z.storage_needed_tb) == (609 if domes == "complex" else 583)
