"""The scenario schema: what a city's camera network, network and recording look like.

Every default names its source in docs/defaults.md (a line of REFERENCE.md) or is marked
there as an assumption.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from simulator.limits import shown
from simulator.scenario.base import Hourly, NonNegative, Positive, Reliability, Strict
from simulator.scenario.recording import RecordingPlan
from simulator.scenario.watch import Incidents, Operators
from simulator.timeline import kinds

RESOLUTIONS: dict[str, tuple[int, int]] = {
    "360p": (640, 360),
    "480p": (854, 480),
    "d1": (704, 576),
    "720p": (1280, 720),
    "1080p": (1920, 1080),
    "4mp": (2560, 1440),
    "5mp": (2592, 1944),
    "4k": (3840, 2160),
}

#: Countries whose law caps retention (days). France: CSI art. L252-5, at most one month.
RETENTION_LIMITS_DAYS: dict[str, int] = {"FR": 30}


def parse_resolution(value: str) -> tuple[int, int]:
    """`1080p`, `4k` or `WIDTHxHEIGHT` → (width, height)."""
    key = value.strip().lower()
    if key in RESOLUTIONS:
        return RESOLUTIONS[key]
    m = re.fullmatch(r"(\d{2,5})x(\d{2,5})", key)
    if not m:
        raise ValueError(
            f"expected one of {', '.join(RESOLUTIONS)} or WIDTHxHEIGHT, got {shown(value)}"
        )
    return int(m.group(1)), int(m.group(2))


def _resolution(value: str) -> str:
    parse_resolution(value)
    return value


Resolution = Annotated[str, AfterValidator(_resolution)]


class Bitrate(Strict):
    """Main-stream rate control. Without `target_mbps` the resolution ladder sets it."""

    mode: Literal["cbr", "vbr"] = "vbr"
    target_mbps: Positive | None = None
    cap_factor: Annotated[float, Field(ge=1)] = 1.5


class SubStream(Strict):
    """Low-resolution live-view stream. Without `bitrate_mbps` it is 1/10 of the main stream."""

    enabled: bool = True
    resolution: Resolution = "360p"
    fps: Annotated[float, Field(gt=0, le=120)] = 7
    bitrate_mbps: Positive | None = None


class GopStructure(Strict):
    """Frame types within the main stream's GOP: B-frames between reference frames, and the
    mean size of an I- and of a B-frame relative to a P-frame. The defaults (IP-only, I = 5 P)
    are assumptions; tests/data/asu-parking-lot.yaml sets a real trace's. The sizing model
    uses it; `camsim serve` encodes IP-only streams whatever it says (replaying reordered
    B-frames over RTP is not built)."""

    b_frames: Annotated[int, Field(ge=0, le=7)] = 0
    i_to_p: Annotated[float, Field(ge=1, le=100)] = 5.0
    b_to_p: Annotated[float, Field(gt=0, le=1)] = 0.5


class Night(Strict):
    """Night-time behaviour: the factor multiplies the VBR bitrate between dusk and dawn."""

    bitrate_factor: Positive = 1.3


class Recording(Strict):
    """What a recorder keeps of this camera's main stream."""

    mode: Literal["continuous", "motion", "off"] = "continuous"
    pre_s: NonNegative = 5.0
    post_s: NonNegative = 10.0
    motion_episodes_per_h: NonNegative = 6.0
    motion_mean_s: Positive = 30.0


class CameraGroup(Strict):
    """A set of identical cameras in one district."""

    name: str
    count: Annotated[int, Field(ge=1, le=100_000)]
    district: str
    resolution: Resolution = "1080p"
    fps: Annotated[float, Field(gt=0, le=120)] = 25
    codec: Literal["h264", "h265", "mjpeg"] = "h264"
    gop: Annotated[int, Field(ge=1, le=1000)] = 50
    gop_structure: GopStructure = GopStructure()
    bitrate: Bitrate = Bitrate()
    scene: Literal["simple", "normal", "complex"] = "normal"
    activity: Literal["low", "medium", "high"] = "medium"
    night: Night = Night()
    sub_stream: SubStream = SubStream()
    recording: Recording = Recording()
    reliability: Reliability = Reliability()

    @model_validator(mode="after")
    def _servable(self) -> CameraGroup:
        """Refuse sizes the synthetic cameras cannot encode or send (`camsim serve`)."""
        sizes = [("resolution", self.resolution)]
        if self.sub_stream.enabled:
            sizes.append(("sub_stream.resolution", self.sub_stream.resolution))
        for name, value in sizes:
            w, h = parse_resolution(value)
            if self.codec == "mjpeg" and (w > 2040 or h > 2040 or w % 8 or h % 8):
                raise ValueError(
                    f"{name}: {value} ({w}x{h}) cannot be sent as MJPEG: RTP/JPEG (RFC 2435) "
                    "needs width and height that are multiples of 8, at most 2040"
                )
            if self.codec != "mjpeg" and (w % 2 or h % 2):
                raise ValueError(
                    f"{name}: {value} ({w}x{h}) cannot be encoded as {self.codec}: 4:2:0 "
                    "video needs an even width and height"
                )
        b = self.gop_structure.b_frames
        if b and (self.codec == "mjpeg" or b >= self.gop):
            allowed = "0 for MJPEG" if self.codec == "mjpeg" else f"at most {self.gop - 1}"
            raise ValueError(f"gop_structure.b_frames: {b} in a GOP of {self.gop}: {allowed}")
        return self


class Link(Strict):
    """A network link: capacity, one-way propagation latency, switch buffer."""

    capacity_mbps: Positive
    latency_ms: NonNegative = 0.1
    buffer_kb: Positive = 1024
    reliability: Reliability | None = None


class District(Strict):
    """A district aggregation switch and its uplink to the core; `backup` is a redundant path."""

    name: str
    uplink: Link
    backup: Link | None = None


class Network(Strict):
    """camera → access link → district uplink → core link → supervision centre."""

    access: Link = Link(capacity_mbps=100, latency_ms=0.05, buffer_kb=512)
    districts: list[District] = Field(min_length=1)
    core: Link
    # p99 utilisation a link is planned to; above it a link is flagged (the usual 80 % rule)
    planning_load: Annotated[float, Field(gt=0, le=1)] = 0.8

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

    latitude: Annotated[float, Field(ge=-66, le=66)] = 48.58
    longitude: Annotated[float, Field(ge=-180, le=180)] = 7.75
    utc_offset_h: Annotated[float, Field(ge=-12, le=14)] = 1.0


class Simulation(Strict):
    """How long, how fine and from which seed."""

    start: dt.datetime = dt.datetime(2026, 6, 19)
    days: Annotated[float, Field(gt=0, le=366)] = 1.0
    resolution_s: Literal[1, 2, 5, 10, 30, 60] = 1
    frame_window_s: Annotated[float, Field(gt=0, le=3600)] = 60.0
    seed: Annotated[int, Field(ge=0)] = 2023

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

    episodes_per_district_day: NonNegative = 0.5
    episode_factor: Annotated[float, Field(ge=1, le=10)] = 1.5
    episode_mean_h: Positive = 2.0

    hourly: Hourly = Field(default_factory=lambda: [
        0.15, 0.1, 0.08, 0.06, 0.06, 0.1, 0.25, 0.5, 0.7, 0.65, 0.65, 0.75,
        0.85, 0.8, 0.7, 0.7, 0.8, 0.95, 1.0, 0.9, 0.75, 0.6, 0.45, 0.3,
    ])  # fmt: skip


class StreamFaults(Strict):
    """Stream-level faults that synthetic cameras show on the wire, as Poisson rates.

    Rates are per camera-day (reconnect storms: per district-day); durations are exponential
    with the given mean. No public source gives these figures for city cameras: every default
    is an assumption, chosen so that a one-day run of 450 cameras shows each kind a few
    times. Set a rate to 0 to switch a kind off.
    """

    freeze_per_camera_day: NonNegative = 0.05
    freeze_mean_s: Positive = 20.0
    frame_drops_per_camera_day: NonNegative = 0.1
    frame_drop_rate: Annotated[float, Field(ge=0, le=1)] = kinds.default("frame_drops", "rate")
    frame_drops_mean_s: Positive = 60.0
    packet_loss_per_camera_day: NonNegative = 0.1
    packet_loss_percent: Annotated[float, Field(ge=0, le=100)] = kinds.default(
        "packet_loss", "percent"
    )
    packet_loss_mean_s: Positive = 120.0
    jitter_per_camera_day: NonNegative = 0.1
    jitter_ms: Annotated[float, Field(ge=0, le=5000)] = kinds.default("jitter", "ms")
    jitter_mean_s: Positive = 120.0
    bitrate_spike_per_camera_day: NonNegative = 0.05
    bitrate_spike_factor: Annotated[float, Field(ge=1, le=20)] = kinds.default(
        "bitrate_spike", "factor"
    )
    bitrate_spike_mean_s: Positive = 60.0
    reconnect_storms_per_district_day: NonNegative = 0.02
    clock_jumps_per_camera_day: NonNegative = 0.005
    clock_jump_s: Annotated[float, Field(ge=-1e9, le=1e9)] = kinds.default("clock_jump", "offset_s")


class Scenario(Strict):
    """A whole city: cameras, network, recording, and how to simulate it."""

    name: str
    country: Annotated[str, Field(pattern=r"^[A-Za-z]{2}$")] = "FR"
    location: Location = Location()
    simulation: Simulation = Simulation()
    activity: Activity = Activity()
    cameras: list[CameraGroup] = Field(min_length=1)
    network: Network
    recording: RecordingPlan
    faults: StreamFaults = StreamFaults()
    incidents: Incidents = Incidents()
    operators: Operators | None = None  # not modelled unless given

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
            for name in server.districts or []:
                if name not in districts:
                    raise ValueError(
                        f"recording.servers.{i}.districts: {shown(name)} is not a network district "
                        f"(one of {', '.join(sorted(districts))})"
                    )
        return self

    @property
    def camera_count(self) -> int:
        return sum(g.count for g in self.cameras)
