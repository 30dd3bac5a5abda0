"""Year-aware sizing: the retention window of the year that stores the most, and the year's
peak day.

The year is 365 days from the scenario's start and is taken to repeat: the day after its end
is the same season as its start, so the hourly demand is circular and the retention window
that stores the most may start in the year's last `retention_days` and go on from its first
day (the retention model, `recorders.storage_fill`, repeats the run the same way).

A whole year at the scenario's resolution (1 s) would cost a year of per-second volume (450
cameras: about 20 minutes and GBs of per-tick state). Instead the year runs at
COARSE_RESOLUTION_S: the volume model's per-tick marginals do not depend on the tick (each
tick's rate is target × activity × night × a stationary lognormal scene term), so the year's
bytes, means and percentiles are the same statistics at 60 s as at 1 s
(`benchmarks/bench_year.py` measures the difference). Then the day holding the year's busiest
hour of demand runs again at the scenario's resolution, for the per-second peaks, the queues
and the frame-level window. It is the run `--set simulation.start=<that day> --days 1`: same
season, the scenario's seed.

The coarse year's own draws of that day are another realisation of it (another traffic chunk,
other world events from another start), so its figures differ from the re-run's by noise as
well as by resolution. The peak day's figures "at 60 s" are therefore the re-run's own draws
averaged over 60 s steps (`Series`, one row a minute for a day): the same bytes (equal to
float rounding), and per-step utilisation whose p99 differs from the per-second one by
resolution alone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import numpy as np

from simulator.model.city import City
from simulator.model.results import GroupSizing, Results, Series, Year
from simulator.model.server_sizing import city_binding, city_servers_needed, summed
from simulator.model.sizing import Progress, simulate
from simulator.scenario.schema import Scenario

COARSE_RESOLUTION_S = 60  # the coarsest the schema allows; see the module docstring
YEAR_DAYS = 365
YEAR_SHARE = 0.85  # of the progress bar: the coarse year; the rest is the peak day
YEAR_ONLY = ("storage",)  # a one-day run repeats its day over the retention period: not this


def worst_window(hourly: np.ndarray, hours: int) -> tuple[int, float]:
    """First index and sum of the `hours` consecutive values of `hourly` with the largest sum,
    the series read as circular (a year is followed by the same season as its start, so a
    window may start in its last `hours` and go on from its first value): the first such
    start. A window longer than the series holds it whole as many times as it fits, and the
    worst window of what is left (retention beyond a year is sized: `Year.full_years`); (0,
    the sums) when nothing is left."""
    hours = max(1, hours)
    whole, n = divmod(hours, max(1, hourly.size))
    total = whole * float(hourly.sum(dtype=np.float64))
    if n == 0:
        return 0, total
    around = np.concatenate([hourly, hourly[: n - 1]])
    cum = np.concatenate([[0.0], np.cumsum(around, dtype=np.float64)])
    sums = cum[n:] - cum[:-n]
    first = int(np.argmax(sums))
    return first, total + float(sums[first])


def _with(scenario: Scenario, **simulation: object) -> Scenario:
    return scenario.model_copy(
        update={"simulation": scenario.simulation.model_copy(update=simulation)}
    )


def year_scenario(scenario: Scenario) -> Scenario:
    """The scenario over a year from its start, at the coarse resolution (its frame-level
    window is the peak day's, so the year's is kept to one second)."""
    res = max(scenario.simulation.resolution_s, COARSE_RESOLUTION_S)
    return _with(scenario, days=float(YEAR_DAYS), resolution_s=res, frame_window_s=1.0)


def peak_day_scenario(scenario: Scenario, day: int) -> Scenario:
    """The scenario over one day, `day` days after its start, at its own resolution."""
    return _with(scenario, start=scenario.simulation.start + dt.timedelta(days=day), days=1.0)


def year_group(year: GroupSizing, day: GroupSizing, keys: list[str]) -> GroupSizing:
    """A server group sized for the year: each constraint at the larger of the year's and the
    peak day's count (storage: the year's), the group needing the most of them; its storage
    the year's, its ingest p99 the larger."""
    by = {k: max(year.by_constraint.get(k, 0),
                 0 if k in YEAR_ONLY else day.by_constraint.get(k, 0)) for k in keys}  # fmt: skip
    binding = max(by, key=lambda k: by[k])
    return replace(
        day,
        servers_needed=by[binding],
        binding=binding,
        by_constraint=by,
        storage_needed_tb=year.storage_needed_tb,
        ingest_p99_mbps=max(year.ingest_p99_mbps, day.ingest_p99_mbps),
    )


def _part(progress: Progress | None, a: float, b: float) -> Progress | None:
    return None if progress is None else (lambda f: progress(a + (b - a) * f))


def size_year(city: City | Scenario, progress: Progress | None = None) -> Results:
    """Year-aware sizing (see `Year`): Results whose storage, recording and storage series
    (fill, hourly demand) are the year's,
    whose links, servers' ingest and window are the peak day's at full resolution, and whose
    servers needed take each constraint at the larger of the two (storage: the year's)."""
    scenario = city.scenario if isinstance(city, City) else city
    year = simulate(year_scenario(scenario), _part(progress, 0.0, YEAR_SHARE))
    hourly = year.series.demand_hourly_tb
    retention = scenario.recording.retention_days
    first, window_tb = worst_window(hourly, int(round(retention * 24)))
    peak_hour = int(np.argmax(hourly))
    peak_day = peak_hour // 24
    day = simulate(peak_day_scenario(scenario, peak_day), _part(progress, YEAR_SHARE, 1.0))

    keys = list(dict.fromkeys([*day.sizing.by_constraint, *year.sizing.by_constraint]))
    by_year = {k: year.sizing.by_constraint.get(k, 0) for k in keys}
    by_day = {k: 0 if k in YEAR_ONLY else day.sizing.by_constraint.get(k, 0) for k in keys}
    groups = [
        year_group(y, d, keys) for y, d in zip(year.sizing.groups, day.sizing.groups, strict=True)
    ]
    sizing = replace(
        day.sizing,
        servers_needed=city_servers_needed(groups),
        binding=city_binding(groups),
        by_constraint=summed(groups),
        groups=groups,
        storage_needed_tb=year.sizing.storage_needed_tb,
        daily_write_tb=year.sizing.daily_write_tb,
        daily_lost_tb=year.sizing.daily_lost_tb,  # over the year, like the lost camera-hours
    )
    servers = [
        replace(d, storage_needed_tb=y.storage_needed_tb)
        for d, y in zip(day.servers, year.servers, strict=True)
    ]
    series = replace(
        day.series,
        storage_days=year.series.storage_days,
        storage_fill_tb=year.series.storage_fill_tb,
        demand_hourly_tb=hourly,
    )
    same_day = hourly[peak_day * 24 : (peak_day + 1) * 24]
    coarse = day.series  # the peak day's own draws, averaged over each step
    return replace(
        day,
        sizing=sizing,
        servers=servers,
        recording=year.recording,
        series=series,
        watch=year.watch,
        warnings=list(dict.fromkeys([*year.warnings, *day.warnings])),
        year=Year(
            start=scenario.simulation.start,
            days=float(YEAR_DAYS),
            coarse_resolution_s=year_scenario(scenario).simulation.resolution_s,
            resolution_s=scenario.simulation.resolution_s,
            retention_days=retention,
            storage_window_start_h=first,
            storage_window_tb=window_tb,
            peak_day=peak_day,
            peak_hour_tb=float(hourly[peak_hour]),
            by_constraint_year=by_year,
            by_constraint_peak_day=by_day,
            daily_write_year_tb=year.sizing.daily_write_tb,
            daily_write_peak_day_tb=float(day.series.demand_hourly_tb.sum()),
            daily_write_peak_day_coarse_tb=float(day.series.demand_hourly_tb.sum()),  # bytes kept
            daily_write_peak_day_year_tb=float(same_day.sum()),
            peak_day_coarse_step_s=coarse.step_s,
            link_p99_util_peak_day_coarse=stepped_p99(coarse),
            link_p99_util_year={lk.name: lk.p99_util for lk in year.links},
            link_loss_year={lk.name: lk.loss_fraction for lk in year.links},
        ),
    )


def stepped_p99(series: Series) -> dict[str, float]:
    """Each link's p99 utilisation over the series' steps (its per-tick utilisation averaged
    over each step): the same draws as the per-tick figures, seen at the step."""
    return {
        name: float(np.percentile(util, 99)) if util.size else 0.0
        for name, util in zip(series.link_names, series.link_mean_util, strict=True)
    }
