"""Year-aware sizing: the retention window that stores the most, found by brute force too; a
CBR year stores bitrate × time; the winter binds a city whose cameras are busier at night."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from simulator.model.year import YEAR_DAYS, size_year, worst_window

TB = 1e12
REL = 1e-6  # float32 accumulation of the per-tick volume is ~1e-7 relative
RESERVE_TB = 5 / 1000


def brute_force(hourly: np.ndarray, hours: int) -> tuple[int, float]:
    """Every window start, the series read as circular (after its last value, its first),
    summed one value at a time."""
    best, first = -np.inf, -1
    for start in range(hourly.size):
        total = 0.0
        for k in range(hours):
            total += float(hourly[(start + k) % hourly.size])
        if total > best:
            best, first = total, start
    return first, best


@pytest.mark.parametrize("seed", range(5))
def test_worst_window_is_the_brute_force_maximum_on_random_series(seed):
    rng = np.random.default_rng(seed)
    hourly = rng.gamma(2.0, 1.0, size=rng.integers(30, 200))
    hours = int(rng.integers(1, hourly.size))
    first, total = worst_window(hourly, hours)
    want_first, want = brute_force(hourly, hours)
    assert first == want_first
    assert total == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_a_window_across_the_series_end_is_found(seed):
    # the largest values straddle the end: the best window starts near the end and goes
    # on from the start, which a scan that does not wrap cannot see
    rng = np.random.default_rng(seed)
    hourly = rng.gamma(2.0, 1.0, size=rng.integers(30, 200))
    hours = int(rng.integers(2, hourly.size // 2))
    hourly[-(hours // 2) :] += 10.0
    hourly[: hours - hours // 2] += 10.0
    first, total = worst_window(hourly, hours)
    want_first, want = brute_force(hourly, hours)
    assert first == want_first and first > hourly.size - hours
    assert total == pytest.approx(want, rel=1e-12)


def test_a_window_as_long_as_the_series_is_all_of_it():
    hourly = np.arange(1.0, 25.0)
    assert worst_window(hourly, 24) == (0, 300.0)
    assert worst_window(hourly, 48) == (0, 600.0)


def test_a_window_longer_than_the_series_holds_it_whole_and_its_worst_remainder():
    """The series repeats: 100 hours of a 24-hour series are 4 whole series (1,200) and the
    worst 4 hours (21 + 22 + 23 + 24 = 90), from hour 20 — as the brute force over the
    repeated series finds."""
    hourly = np.arange(1.0, 25.0)
    assert worst_window(hourly, 100) == (20, 1290.0)
    assert brute_force(np.tile(hourly, 5), 100)[1] == 1290.0


def test_retention_beyond_a_year_is_sized_and_the_year_table_says_what_it_holds(load):
    """400 days (Germany, say) of constant 17 Mbps: 400 × 0.18360 TB, in the sizing and in the
    year's window alike (was the year's 365 days in the window: two answers)."""
    from simulator.report.tables import year_table

    r = size_year(load("cbr_city", "country=DE", "recording.retention_days=400"))
    per_day_tb = (3 * 4.0 + 2 * 2.5) * 1e6 / 8 * 86400 / TB
    assert r.year.storage_window_tb == pytest.approx(per_day_tb * 400, rel=REL)
    assert r.sizing.storage_needed_tb == pytest.approx(per_day_tb * 400 + 2 * RESERVE_TB, rel=REL)
    row = next(row for row in year_table(r).rows if row[0].startswith("worst"))
    assert row[0] == "worst 400-day window"
    assert row[1].startswith("whole year + ") and "→" in row[1]
    assert row[2] == f"{per_day_tb * 400:.1f} TB"


@pytest.fixture(scope="module")
def year_run(request):
    from tests.conftest import load_data_scenario

    scenario = load_data_scenario("year_city")
    return scenario, size_year(scenario)


def test_year_window_is_the_brute_force_maximum_of_the_simulated_year(year_run):
    scenario, r = year_run
    y = r.year
    hourly = r.series.demand_hourly_tb
    assert hourly.size == YEAR_DAYS * 24
    keep = int(scenario.recording.retention_days * 24)
    first, total = brute_force(hourly, keep)
    assert y.storage_window_start_h == first
    assert y.storage_window_tb == pytest.approx(total, rel=1e-9)
    # one server, nothing lost: the storage it needs is that window plus its reserve, as
    # computed independently by the retention model (recorders.storage_fill)
    assert r.sizing.storage_needed_tb == pytest.approx(total + RESERVE_TB, rel=REL)


def days_from_solstice(y, instant: dt.datetime) -> float:
    """Days between an instant and the nearest 21 December noon, either way."""
    return min(
        abs((instant - dt.datetime(year, 12, 21, 12)).total_seconds()) / 86400
        for year in (instant.year - 1, instant.year)
    )


def window_middle(y) -> dt.datetime:
    """The storage window's middle, in the simulated year (around its end when it wraps)."""
    return y.date((y.storage_window_start_h / 24 + y.retention_days / 2) % y.days)


def test_winter_binds_when_cameras_send_more_at_night(year_run):
    scenario, r = year_run
    assert not r.year.wraps  # the year starts on 2 March: the winter is inside it
    first, last = r.year.storage_window
    assert last - first == dt.timedelta(days=30)
    assert days_from_solstice(r.year, window_middle(r.year)) < 20, (first, last)
    # and the binding window stores more than the mean window of the year
    mean_window = r.year.daily_write_year_tb * scenario.recording.retention_days
    assert r.year.storage_window_tb > 1.02 * mean_window


def test_a_year_from_the_solstice_wraps_its_window_past_the_years_end(load):
    # the same city from 21 December: its winter is split between the year's first and last
    # weeks, and the worst window goes on past the year's end into its start
    scenario = load("year_city", "simulation.start=2026-12-21T00:00:00")
    r = size_year(scenario)
    y = r.year
    hourly = r.series.demand_hourly_tb
    keep = int(scenario.recording.retention_days * 24)
    first, total = brute_force(hourly, keep)
    assert y.storage_window_start_h == first > hourly.size - keep
    assert y.wraps
    assert y.storage_window_tb == pytest.approx(total, rel=1e-9)
    assert r.sizing.storage_needed_tb == pytest.approx(total + RESERVE_TB, rel=REL)
    (server,) = r.servers
    assert server.storage_needed_tb == pytest.approx(total + RESERVE_TB, rel=REL)
    start, end = y.storage_window
    assert start == y.date(first / 24) and dt.datetime(2027, 11, 21) < start < y.date(365)
    assert end == start + dt.timedelta(days=30) - dt.timedelta(days=365)
    assert dt.datetime(2026, 12, 21) < end < dt.datetime(2027, 1, 20)
    assert days_from_solstice(y, window_middle(y)) < 20
    # a window that cannot wrap would hold less: the two halves of the winter apart
    plain = max(hourly[i : i + keep].sum() for i in range(hourly.size - keep + 1))
    assert total > plain


def test_peak_day_is_the_day_of_the_busiest_hour_rerun_at_full_resolution(year_run):
    scenario, r = year_run
    y = r.year
    hourly = r.series.demand_hourly_tb
    assert y.peak_day == int(np.argmax(hourly)) // 24
    assert y.resolution_s == scenario.simulation.resolution_s
    assert r.days == 1
    # the peak day at full resolution writes what the coarse year wrote that day, within
    # the scene noise of 20 cameras over a day (a few per cent)
    assert y.daily_write_peak_day_tb == pytest.approx(y.daily_write_peak_day_year_tb, rel=0.05)


def test_a_year_of_cbr_stores_bitrate_times_time(load):
    # tests/data/cbr_city.yaml: 3 × 4 Mbps (rec-north) and 2 × 2.5 Mbps (rec-south), CBR
    scenario = load("cbr_city")
    r = size_year(scenario)
    mbps = 3 * 4.0 + 2 * 2.5
    per_day_tb = mbps * 1e6 / 8 * 86400 / TB
    assert float(r.series.demand_hourly_tb.sum()) == pytest.approx(per_day_tb * YEAR_DAYS, rel=REL)
    assert r.year.storage_window_tb == pytest.approx(per_day_tb * 30, rel=REL)
    assert r.sizing.storage_needed_tb == pytest.approx(per_day_tb * 30 + 2 * RESERVE_TB, rel=REL)
    assert r.sizing.daily_write_tb == pytest.approx(per_day_tb, rel=REL)
    assert r.recording.expected_hours == pytest.approx(5 * YEAR_DAYS * 24, rel=REL)


def test_the_year_keeps_each_links_figures(year_run):
    _, r = year_run
    y = r.year
    assert set(y.link_p99_util_year) == {lk.name for lk in r.links}
    # 20 cameras × 4 Mbps VBR on a 1 Gbps uplink: a few per cent, never lost
    assert 0 < y.link_p99_util_year["uplink:town"] < 0.2
    assert y.link_loss_year["uplink:town"] == 0


def test_what_was_not_stored_covers_the_year_like_the_lost_hours(load):
    # CBR: each lost camera-hour of a 4 Mbps camera is 4 Mbps × 1 h not stored, so the TB/day
    # not stored and the lost camera-hours must describe the same period (the year)
    scenario = load(
        "cbr_city", "cameras.0.reliability.mtbf_h=200", "cameras.0.reliability.mttr_h=20"
    )
    r = size_year(scenario)
    lost_h = r.recording.lost_hours["camera"]
    assert lost_h > 0
    lost_tb_per_day = lost_h * 3600 * 4e6 / 8 / TB / YEAR_DAYS
    assert r.sizing.daily_lost_tb["camera"] == pytest.approx(lost_tb_per_day, rel=1e-3)


def test_peak_day_figures_at_both_resolutions_come_from_the_same_draws(year_run):
    """The peak day's figures at 60 s are its 1 s run's own draws averaged over each minute:
    the standalone run of that day (`--set simulation.start=<day> --days 1`), aggregated here,
    gives them exactly (bytes: equal to float rounding; each link's p99 of its per-minute
    means: equal), so the 1 s/60 s difference shown is resolution alone. Before, the 60 s
    figure was the coarse year's own draws of the day: another realisation (5 % apart here)."""
    from simulator.model.sizing import simulate
    from simulator.model.year import peak_day_scenario

    scenario, r = year_run
    y = r.year
    day = simulate(peak_day_scenario(scenario, y.peak_day))
    assert day.series.step_s == y.peak_day_coarse_step_s == 60
    per_minute = day.series.link_mean_util  # (links, 1440): each minute's mean of 60 seconds
    assert per_minute.shape[1] == 1440
    written_tb = float(day.series.demand_hourly_tb.sum(dtype=np.float64))
    assert y.daily_write_peak_day_coarse_tb == pytest.approx(written_tb, rel=1e-9)
    assert y.daily_write_peak_day_coarse_tb == pytest.approx(y.daily_write_peak_day_tb, rel=1e-9)
    for name, util in zip(day.series.link_names, per_minute, strict=True):
        assert y.link_p99_util_peak_day_coarse[name] == pytest.approx(
            float(np.percentile(util, 99)), rel=1e-12
        )
        one_s = next(lk.p99_util for lk in r.links if lk.name == name)
        # a minute's mean smooths the per-second peaks: never above the per-second p99
        assert y.link_p99_util_peak_day_coarse[name] <= one_s + 1e-12
    # the year's own draws of the day are kept, named as such
    assert y.daily_write_peak_day_year_tb == pytest.approx(y.daily_write_peak_day_tb, rel=0.05)
