"""What a run of the sizing model produces: plain data for the reporting layer."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class LinkStats:
    """One link (or, for `access`, the class of all per-camera access links)."""

    name: str
    kind: str  # "access" | "uplink" | "backup" | "core"
    capacity_mbps: float
    count: int  # links this row stands for (n cameras for "access")
    mean_util: float  # per-second utilisation over the whole run, 0..1+
    p99_util: float
    max_util: float
    loss_fraction: float  # bytes lost / bytes offered, per-second fluid model, whole run
    window_loss_fraction: float  # bytes lost / offered in its frame-level window
    mean_delay_ms: float  # queueing delay (wait before transmission), frame-level window
    p99_delay_ms: float
    max_delay_ms: float
    down_hours: float  # time the link was failed
    # its frame-level window: a district link's own busiest minute; the core's busiest for
    # the core and the access links (all of them at once)
    window_start_s: float = 0.0


@dataclass
class ServerStats:
    """One recording server."""

    name: str
    cameras: int
    ingest_limit_mbps: float
    max_streams: int
    ingest_mean_mbps: float
    ingest_p99_mbps: float
    ingest_max_mbps: float
    write_iops_mean: float
    write_iops_p99: float
    iops_capacity: float
    write_capacity_mbps: float
    usable_tb: float
    storage_needed_tb: float  # at steady state of the retention window
    down_hours: float


@dataclass
class RecordingStats:
    """Recording availability: what was meant to be recorded and what was."""

    expected_hours: float  # camera-hours that should have been recorded
    recorded_hours: float
    # by first cause: camera, link, unassigned, server, congestion (link loss), overload
    lost_hours: dict[str, float]

    @property
    def availability(self) -> float:
        return self.recorded_hours / self.expected_hours if self.expected_hours else 1.0


@dataclass
class GroupSizing:
    """One server group: its servers needed, by constraint, against those configured."""

    name: str
    cameras: int  # cameras it records (and those no server had room for)
    servers_configured: int
    servers_needed: int  # the most any one constraint needs
    binding: str
    by_constraint: dict[str, int]
    storage_needed_tb: float = 0.0  # its cameras' demand at retention, + its servers' reserve
    storage_usable_tb: float = 0.0  # its servers' usable capacity
    ingest_p99_mbps: float = 0.0  # its cameras' demand, p99 over the run


@dataclass
class Sizing:
    """Recording servers needed, by constraint, against those configured.

    Storage is sized for the demand: what the cameras meant to be recorded would record were
    every camera, link and server up; `daily_lost_tb` is what of it never reached a disk, by
    first cause (the causes of `RecordingStats.lost_hours`).
    """

    servers_configured: int
    servers_needed: int  # the sum over the groups of each one's binding constraint
    binding: str  # the constraint that sets servers_needed (of the group needing the most)
    by_constraint: dict[str, int]  # summed over the groups (need not add up to servers_needed)
    storage_needed_tb: float  # demand at retention steady state, + each server's reserve
    storage_usable_tb: float
    daily_write_tb: float  # demand per day
    planning_load: float  # share of each server limit sized for (recording.planning_load)
    daily_lost_tb: dict[str, float]  # demand not stored, TB per day, by first cause
    link_planning_load: float = 0.8  # p99 utilisation links are planned to (network.)
    groups: list[GroupSizing] = field(default_factory=list)  # in scenario order


@dataclass
class Series:
    """Time series for plots and CSV: one row per `step_s` seconds of simulated time."""

    step_s: int
    link_names: list[str]
    link_mean_util: np.ndarray  # (links, steps)
    link_max_util: np.ndarray  # (links, steps)
    server_names: list[str]
    server_ingest_mbps: np.ndarray  # (servers, steps) mean over the step
    storage_days: np.ndarray  # (points,) days since the first recording
    storage_fill_tb: np.ndarray  # (servers, points) occupied storage
    camera_mean_mbps: np.ndarray  # (cameras,) main+sub stream mean over the run
    camera_ids: list[str] = field(default_factory=list)  # (cameras,) scenario order
    camera_districts: list[str] = field(default_factory=list)
    camera_servers: list[str] = field(default_factory=list)  # "" when not recorded
    # (hours,) TB the cameras meant to be recorded sent, hour by hour: the storage demand
    demand_hourly_tb: np.ndarray = field(default_factory=lambda: np.zeros(0))


@dataclass
class Window:
    """The frame-level window: where it was and what it saw."""

    start_s: float
    length_s: float
    frames: int
    end_to_end_p99_ms: float  # camera → centre, for frames that arrived


@dataclass
class Watch:
    """What the operators saw of the incidents."""

    days: float
    incidents: int
    detected: int
    unseen: int  # never on a monitor while visible
    away: int  # on a monitor only while its operator was busy or on a break
    unnoticed: int  # on a monitor in front of an attentive operator, not noticed
    delays_s: np.ndarray  # incident start → detection, for those detected
    by_hour: np.ndarray  # (24, 2): incidents, detected, by local hour of the start
    busy_share: float  # time handling incidents and requests / time on duty
    requests: int  # requests handled (live transfers, reviews, exports, alarm checks)
    detection_p: float  # per look, before vigilance
    monitors_each: int
    max_cameras_per_operator: int  # over the hours with someone on duty
    hours_unwatched: int  # hours of the day with nobody on duty

    @property
    def detected_share(self) -> float:
        """Detected / incidents (NaN without incidents)."""
        return self.detected / self.incidents if self.incidents else math.nan

    @property
    def detected_per_year(self) -> float:
        """Incidents detected, scaled from the simulated days to a 365-day year."""
        return self.detected / self.days * 365 if self.days > 0 else math.nan

    def delay_percentiles(self) -> tuple[float, float]:
        """Median and 90th percentile of incident start → detection (s); NaN if none."""
        d = np.asarray(self.delays_s, dtype=float)
        d = d[np.isfinite(d)]
        if not d.size:
            return math.nan, math.nan
        median, p90 = np.percentile(d, [50, 90])
        return float(median), float(p90)


@dataclass
class Results:
    """Everything one sizing run computed."""

    scenario: str
    seed: int
    cameras: int
    days: float
    links: list[LinkStats]
    servers: list[ServerStats]
    recording: RecordingStats
    sizing: Sizing
    window: Window
    series: Series
    warnings: list[str] = field(default_factory=list)
    watch: Watch | None = None  # operators and incidents, when the scenario has operators
    reads: ReadStats | None = None  # the recorders' read load (simulator.model.reads)
    # failover and disks, when the scenario has them: a simulator.model.resilience.Resilience
    # (typed loosely: the modules that build results import this one, not the reverse)
    resilience: Any = None
    year: Year | None = None  # where in the year the sizing binds, for a year-aware run
    # key figures over independent replications, when this run is the first of several
    replications: Any = None  # a simulator.model.replications.Replications
    costs: Any = None  # a simulator.model.costs.Costs, when the scenario has prices


@dataclass
class Year:
    """Year-aware sizing: the year at a coarse resolution, its peak day at full resolution.

    Days count from the scenario's start (day 0). Storage and recording figures are the year's;
    links, servers' ingest and the frame-level window are the peak day's; each server
    constraint is the larger of the two.
    """

    start: dt.datetime  # the year's first instant (the scenario's start)
    days: float  # simulated at the coarse resolution
    coarse_resolution_s: int
    resolution_s: int  # of the peak day
    retention_days: float
    storage_window_start_h: int  # first hour of the retention window that stores the most
    storage_window_tb: float  # demand written in it (what the storage constraint sizes)
    peak_day: int  # the day holding the year's busiest hour of demand, re-run at full res
    peak_hour_tb: float
    by_constraint_year: dict[str, int]  # servers needed by constraint, coarse year
    by_constraint_peak_day: dict[str, int]  # the same, peak day at full resolution
    daily_write_year_tb: float  # mean over the year
    daily_write_peak_day_tb: float  # the peak day at full resolution
    # the peak day's own draws seen at `peak_day_coarse_step_s`: its per-tick rates averaged
    # over each step (bytes are kept: equal to daily_write_peak_day_tb but for float rounding)
    daily_write_peak_day_coarse_tb: float
    daily_write_peak_day_year_tb: float = 0.0  # the same day in the coarse year: other draws
    peak_day_coarse_step_s: int = 60
    # each link's p99 utilisation on the peak day at that step, from the same draws as
    # Results.links' (per second): the difference is resolution only
    link_p99_util_peak_day_coarse: dict[str, float] = field(default_factory=dict)
    # each link's p99 utilisation and loss over the coarse year (Results.links: the peak day's)
    link_p99_util_year: dict[str, float] = field(default_factory=dict)
    link_loss_year: dict[str, float] = field(default_factory=dict)

    def date(self, day: float) -> dt.datetime:
        """The instant `day` days after the year's start."""
        return self.start + dt.timedelta(days=day)

    @property
    def full_years(self) -> int:
        """Whole years the retention window holds (retention beyond a year: the year repeats,
        so a window of 400 days is the whole year and its worst 35 days)."""
        return int(round(self.retention_days * 24)) // int(round(self.days * 24))

    @property
    def remainder_days(self) -> float:
        """The retention beyond its whole years: the part of the window that has dates."""
        return self.retention_days - self.full_years * self.days

    @property
    def storage_window(self) -> tuple[dt.datetime, dt.datetime]:
        """[first, last) instants of the retention window that stores the most (beyond
        `full_years`), in the simulated year: when it `wraps`, it runs from `first` to the
        year's end and on from the year's start to `last`, so `last` comes before `first`."""
        first = self.storage_window_start_h / 24
        last = first + self.remainder_days - (self.days if self.wraps else 0.0)
        return self.date(first), self.date(last)

    @property
    def wraps(self) -> bool:
        """Whether the storage window goes past the year's end (on from its start)."""
        return self.storage_window_start_h / 24 + self.remainder_days > self.days

    def where(self, constraint: str) -> str:
        """Which part of the year sets a constraint: "year" (storage window) or "peak day"."""
        y, d = self.by_constraint_year[constraint], self.by_constraint_peak_day[constraint]
        return "peak day" if d > y else "year"


@dataclass
class ServerReads:
    """One server's read load over the run."""

    name: str
    playback_mbyte_s_mean: float  # reviews and exports, from disk
    playback_mbyte_s_max: float  # reviews are rare: their p99 is often 0
    live_mbps_mean: float  # live views relayed
    live_mbps_p99: float
    read_iops_mean: float  # AxxonSoft, recording's own reads included
    read_iops_p99: float
    disk_iops_p99: float  # write × penalty + read
    disk_iops_capability: float

    @property
    def disk_load_p99(self) -> float:
        return self.disk_iops_p99 / self.disk_iops_capability


@dataclass
class ReadStats:
    """The recorders' read load: by server, over time, and the servers it needs."""

    actions: dict[str, int]  # actions that read, by kind
    servers: list[ServerReads]
    servers_needed: int  # by write + read IOPS at p99, against the planning load: all groups
    step_s: int
    read_iops: np.ndarray  # (servers, steps) mean per step
    disk_load: np.ndarray  # (servers, steps) back-end IOPS / capability
    group_needed: list[int] = field(default_factory=list)  # per `recording.servers` group
