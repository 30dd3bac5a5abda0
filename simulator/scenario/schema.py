"""The scenario schema: what a city's camera network, network and recording look like.

Every default names its source in docs/defaults.md (a line of REFERENCE.md) or is marked
there as an assumption.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from simulator.limits import shown
from simulator.scenario.base import Hourly, NonNegative, Positive, Reliability, Strict
from simulator.scenario.cameras import CameraGroup
from simulator.scenario.costs import Costs, check_costs
from simulator.scenario.recording import RecordingPlan
from simulator.scenario.watch import Incidents, Operators
from simulator.timeline import kinds

#: Countries whose law caps retention (days). France: CSI art. L252-5, at most one month.
RETENTION_LIMITS_DAYS: dict[str, int] = {"FR": 30}


class Link(Strict):
    """A network link: capacity, one-way propagation latency, switch buffer."""

    capacity_mbps: Positive = Field(description="Capacity, Mbit/s")
    latency_ms: NonNegative = Field(0.1, description="One-way propagation latency, milliseconds")
    buffer_kb: Positive = Field(1024, description="Switch buffer at the link's head, KB")
    reliability: Reliability | None = Field(
        None, description="Link failures and repairs; none: the link never fails"
    )


class District(Strict):
    """A district aggregation switch and its uplink to the core; `backup` is a redundant path."""

    name: str = Field(description="The district's name, which camera groups and servers refer to")
    uplink: Link = Field(description="The district's link to the core")
    backup: Link | None = Field(None, description="A redundant path to the core; none: no backup")


class Network(Strict):
    """camera → access link → district uplink → core link → supervision centre."""

    access: Link = Field(
        Link(capacity_mbps=100, latency_ms=0.05, buffer_kb=512),
        description="Each camera's own link to its district switch",
    )
    districts: list[District] = Field(
        min_length=1, description="The districts, each with its uplink"
    )
    core: Link = Field(description="The core link to the supervision centre")
    planning_load: Annotated[float, Field(gt=0, le=1)] = Field(
        0.8, description="Share of capacity a link is planned to, 0..1 (of its p99 utilisation)"
    )

    @field_validator("districts")
    @classmethod
    def _unique(cls, v: list[District]) -> list[District]:
        names = [d.name for d in v]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"district names must be unique, repeated: {', '.join(sorted(dup))}")
        return v


class Location(Strict):
    """Where the city is: sets sunrise and sunset."""

    latitude: Annotated[float, Field(ge=-66, le=66)] = Field(
        48.58, description="Latitude, degrees north (sets sunrise and sunset)"
    )
    longitude: Annotated[float, Field(ge=-180, le=180)] = Field(
        7.75, description="Longitude, degrees east"
    )
    utc_offset_h: Annotated[float, Field(ge=-12, le=14)] = Field(
        1.0, description="Local time's offset from UTC, hours"
    )


class Simulation(Strict):
    """How long, how fine and from which seed."""

    start: dt.datetime = Field(
        dt.datetime(2026, 6, 19), description="When the simulation starts (YYYY-MM-DDTHH:MM:SS)"
    )
    days: Annotated[float, Field(gt=0, le=366)] = Field(1.0, description="Simulated days")
    resolution_s: Literal[1, 2, 5, 10, 30, 60] = Field(
        1, description="Time step of the load series, seconds"
    )
    frame_window_s: Annotated[float, Field(gt=0, le=3600)] = Field(
        60.0, description="Length of the frame-by-frame window at the busiest minute, seconds"
    )
    seed: Annotated[int, Field(ge=0)] = Field(2023, description="Root of the random seed tree")

    @field_validator("start", mode="before")
    @classmethod
    def _real_date(cls, v: object) -> object:
        """An impossible date or time (2026-02-30, T25:00) says which part is wrong."""
        if isinstance(v, str):
            try:
                return dt.datetime.fromisoformat(v)
            except ValueError as exc:
                raise ValueError(f"not a date and time (YYYY-MM-DDTHH:MM:SS): {exc}") from None
        return v


class Activity(Strict):
    """Street activity by hour of day, 0..1 (24 values), and district activity episodes.

    Episodes (a market, a match, a demonstration) multiply a district's activity by `factor`
    for an exponentially distributed time; all three figures are assumptions.
    """

    episodes_per_district_day: NonNegative = Field(
        0.5,
        description=(
            "Activity episodes (a market, a match, a demonstration) per district per day (Poisson)"
        ),
    )
    episode_factor: Annotated[float, Field(ge=1, le=10)] = Field(
        1.5, description="An episode's multiplier of its district's activity, ×"
    )
    episode_mean_h: Positive = Field(2.0, description="Mean episode length, hours (exponential)")

    hourly: Hourly = Field(default_factory=lambda: [
        0.15, 0.1, 0.08, 0.06, 0.06, 0.1, 0.25, 0.5, 0.7, 0.65, 0.65, 0.75,
        0.85, 0.8, 0.7, 0.7, 0.8, 0.95, 1.0, 0.9, 0.75, 0.6, 0.45, 0.3,
    ], description="Street activity by hour of day from 0 h, 24 values 0..1 (1: the busiest "
       "hour)")  # fmt: skip


class StreamFaults(Strict):
    """Stream-level faults that synthetic cameras show on the wire, as Poisson rates.

    Rates are per camera-day (reconnect storms: per district-day); durations are exponential
    with the given mean. No public source gives these figures for city cameras: every default
    is an assumption, chosen so that a one-day run of 450 cameras shows each kind a few
    times. Set a rate to 0 to switch a kind off.
    """

    freeze_per_camera_day: NonNegative = Field(
        0.05, description="Stream freezes per camera per day (Poisson)"
    )
    freeze_mean_s: Positive = Field(20.0, description="Mean freeze length, seconds (exponential)")
    frame_drops_per_camera_day: NonNegative = Field(
        0.1, description="Frame-drop episodes per camera per day (Poisson)"
    )
    frame_drop_rate: Annotated[float, Field(ge=0, le=1)] = Field(
        kinds.default("frame_drops", "rate"),
        description="Share of frames dropped during an episode, 0..1",
    )
    frame_drops_mean_s: Positive = Field(
        60.0, description="Mean frame-drop episode length, seconds (exponential)"
    )
    packet_loss_per_camera_day: NonNegative = Field(
        0.1, description="Packet-loss episodes per camera per day (Poisson)"
    )
    packet_loss_percent: Annotated[float, Field(ge=0, le=100)] = Field(
        kinds.default("packet_loss", "percent"), description="Packets lost during an episode, %"
    )
    packet_loss_mean_s: Positive = Field(
        120.0, description="Mean packet-loss episode length, seconds (exponential)"
    )
    jitter_per_camera_day: NonNegative = Field(
        0.1, description="Jitter episodes per camera per day (Poisson)"
    )
    jitter_ms: Annotated[float, Field(ge=0, le=5000)] = Field(
        kinds.default("jitter", "ms"),
        description="Delay jitter added during an episode, milliseconds",
    )
    jitter_mean_s: Positive = Field(
        120.0, description="Mean jitter episode length, seconds (exponential)"
    )
    bitrate_spike_per_camera_day: NonNegative = Field(
        0.05, description="Bitrate spikes per camera per day (Poisson)"
    )
    bitrate_spike_factor: Annotated[float, Field(ge=1, le=20)] = Field(
        kinds.default("bitrate_spike", "factor"), description="Bitrate multiplier during a spike, ×"
    )
    bitrate_spike_mean_s: Positive = Field(
        60.0, description="Mean bitrate spike length, seconds (exponential)"
    )
    reconnect_storms_per_district_day: NonNegative = Field(
        0.02,
        description=(
            "Reconnect storms (a district's cameras reconnecting at once) per district per day "
            "(Poisson)"
        ),
    )
    clock_jumps_per_camera_day: NonNegative = Field(
        0.005, description="Camera clock jumps per camera per day (Poisson)"
    )
    clock_jump_s: Annotated[float, Field(ge=-1e9, le=1e9)] = Field(
        kinds.default("clock_jump", "offset_s"),
        description="A clock jump's wall-clock shift, seconds (negative: backwards)",
    )


class Scenario(Strict):
    """A whole city: cameras, network, recording, and how to simulate it."""

    name: str = Field(description="The city's (or variant's) name, shown in reports")
    country: Annotated[str, Field(pattern=r"^[A-Za-z]{2}$")] = Field(
        "FR",
        description=(
            "Two-letter country code; FR caps retention at 30 days (REFERENCE.md § Law, CSI art. "
            "L252-5)"
        ),
    )
    location: Location = Field(Location(), description="Where the city is")
    simulation: Simulation = Field(Simulation(), description="Span, time step and seed")
    activity: Activity = Field(
        Activity(), description="Street activity by hour and districts' activity episodes"
    )
    cameras: list[CameraGroup] = Field(min_length=1, description="The camera groups")
    network: Network = Field(description="Access links, district uplinks and the core")
    recording: RecordingPlan = Field(
        description="Recording servers, their disks, failover and retention"
    )
    faults: StreamFaults = Field(
        StreamFaults(), description="Stream faults the synthetic cameras show (`camsim serve`)"
    )
    incidents: Incidents = Field(
        Incidents(), description="Street incidents a camera could show (with `operators`)"
    )
    operators: Operators | None = Field(
        None, description="The operators at the video wall; none: not modelled"
    )
    costs: Costs | None = Field(
        None, description="Prices, to cost what is configured and what is needed; none: no costs"
    )

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        limit = RETENTION_LIMITS_DAYS.get(self.country.upper())
        if limit is not None and self.recording.retention_days > limit:
            raise ValueError(
                f"recording.retention_days: {self.recording.retention_days:g} days is unlawful "
                f"in {self.country.upper()} (at most {limit} days, CSI art. L252-5)"
            )
        districts = {d.name for d in self.network.districts}
        for i, group in enumerate(self.cameras):
            if group.district not in districts:
                raise ValueError(
                    f"cameras.{i}.district: {shown(group.district)} is not a network district "
                    f"(one of {', '.join(sorted(districts))})"
                )
        for i, server in enumerate(self.recording.servers):
            if server.districts == []:
                raise ValueError(
                    f"recording.servers.{i}.districts: empty, so the group records nothing "
                    f"(list some of {', '.join(sorted(districts))}, or leave it out for any)"
                )
            for name in server.districts or []:
                if name not in districts:
                    raise ValueError(
                        f"recording.servers.{i}.districts: {shown(name)} is not a network district "
                        f"(one of {', '.join(sorted(districts))})"
                    )
        self._every_recorded_district_has_servers()
        if self.costs is not None:
            check_costs(self.costs, [g.name for g in self.recording.servers])
        return self

    def _every_recorded_district_has_servers(self) -> None:
        """A camera group that records must be in a district some server group takes."""
        taken = [s.districts for s in self.recording.servers]
        if any(t is None for t in taken):
            return
        takes = {name for t in taken for name in t or []}
        for i, group in enumerate(self.cameras):
            if group.recording.mode != "off" and group.district not in takes:
                raise ValueError(
                    f"cameras.{i}.district: {shown(group.district)} records, but no recording "
                    f"server group takes it (recording.servers.N.districts list "
                    f"{', '.join(sorted(takes))})"
                )

    @property
    def camera_count(self) -> int:
        return sum(g.count for g in self.cameras)
