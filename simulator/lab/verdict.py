"""The verdict of a lab run and its parts: what verdict.json holds (schema camsim.verdict/1).

How it is reached from the ledger's rows and the target's recordings is `lab/judge.py`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple

from simulator.lab.spans import Span


@dataclass(frozen=True)
class Slos:
    """Service-level objectives a run must meet (thresholds; scenario or command line)."""

    gap_tolerance_s: float = 2.0  # shorter breaks between recordings are not gaps
    recovery_s: float = 30.0  # recording again at most this long after a camera returns
    frames_ratio: float = 0.95  # frames recorded / frames produced, outside outages
    capture_ratio: float = 0.9  # the target's median capture rate / the camera's, outside outages
    api_p95_s: float = 2.0
    api_p99_s: float = 5.0
    api_error_rate: float = 0.01


class Interval(NamedTuple):
    """One interval of a camera's main stream as the generator lived it (a ledger row)."""

    t0: float
    t1: float
    frames: int  # sent to at least one session
    sessions: int  # playing at the interval's end
    due: int = 0  # frame slots that fell due while a session played
    late_skips: int = 0  # frames the generator skipped because it fell behind (its own)
    fault_drops: int = 0  # frames an injected fault withheld
    target_drops: int = 0  # frames a session missed because the target stopped reading
    unsent_bytes: int = 0  # what the sessions had not taken at the interval's end

    @property
    def harness_silent(self) -> bool:
        """The generator sent nothing to a playing session that was taking what it got, and
        no fault withheld anything: its own failure."""
        return (self.frames == 0 and self.sessions > 0 and self.target_drops == 0
                and self.fault_drops == 0)  # fmt: skip


STOPPED_READING = "the target stopped reading"


@dataclass
class Outage:
    """One injected outage of one camera, and what the target made of it."""

    camera: str
    kind: str  # camera_down, link_down, stream_freeze
    start: float
    end: float
    noticed: list[str] = field(default_factory=list)  # how: "log", "event closed"
    recovered_after_s: float | None = None  # first recording after the end, minus the end
    not_judged: str = ""  # why recovery is not judged: the run ended too soon after it

    @property
    def length_s(self) -> float:
        return self.end - self.start


@dataclass
class Degradation:
    """One injected fault that degrades a stream without stopping it (packet loss, frame
    drops, jitter, a bitrate spike), and what the target recorded while it lasted."""

    camera: str
    kind: str
    start: float
    end: float
    params: dict[str, Any] = field(default_factory=dict)
    noticed: list[str] = field(default_factory=list)
    sent: int = 0  # frames the generator sent meanwhile
    recorded: float = 0.0  # frames the target recorded meanwhile (pro rata)


@dataclass
class Gap:
    camera: str
    start: float
    end: float
    explained_by: str | None  # the outage's kind, or None
    harness: bool = False  # the generator sent nothing then, with no fault: not the target's
    cause: str = ""  # what the ledger says of it: "the target stopped reading" (backpressure)

    @property
    def length_s(self) -> float:
        return self.end - self.start


@dataclass
class Shortfall:
    """A closed recording that holds far fewer frames than the camera produced over its span:
    video lost inside a recording (the target kept it open across a stall)."""

    camera: str
    start: float
    end: float
    frames: int  # what the recording holds
    produced: float  # what the camera produced over its span
    lost_s: float  # the missing frames, in seconds of the camera's video
    explained_by: str | None  # an injected fault over it, when it covers the loss; or None
    excused_s: float = 0.0  # the seconds of it injected faults cover (at most lost_s)


@dataclass
class CameraFrames:
    """Frames one camera produced, the harness sent and the target recorded, over the window
    up to the target's first still-open recording; produced leaves out what the harness
    skipped itself (late_skips) and what injected faults withheld."""

    camera: str
    sent: int
    recorded: float
    outside_outages_sent: int
    outside_outages_recorded: float
    produced: float = 0.0
    outside_outages_produced: float = 0.0
    target_drops: int = 0  # frames the target did not take (its connection full)
    late_skips: int = 0  # frames the harness skipped (its own lateness), not counted

    @property
    def ratio(self) -> float | None:
        """Frames recorded / produced outside outages."""
        p = self.outside_outages_produced
        return None if p <= 0 else self.outside_outages_recorded / p


@dataclass
class CameraCapture:
    """The target's own capture rate of one camera (ZoneMinder's CaptureFPS), sampled every
    interval, outside outages."""

    camera: str
    fps: float  # the camera's
    samples: int
    median_fps: float | None
    min_fps: float | None
    discounted: int = 0  # samples left out: read while the generator fell behind


@dataclass
class ApiStats:
    kind: str
    count: int
    errors: int
    p50_s: float
    p95_s: float
    p99_s: float


@dataclass
class Check:
    name: str
    passed: bool
    value: Any
    threshold: Any
    note: str = ""


@dataclass
class Verdict:
    """Everything verdict.json holds (schema camsim.verdict/1)."""

    window: Span
    harness: dict[str, Any]
    outages: list[Outage]
    gaps: list[Gap]
    frames: list[CameraFrames]
    api: list[ApiStats]
    checks: list[Check]
    recordings: dict[str, list[tuple[float, float, int]]] = field(default_factory=dict)
    degradations: list[Degradation] = field(default_factory=list)
    shortfalls: list[Shortfall] = field(default_factory=list)
    capture: list[CameraCapture] = field(default_factory=list)
    # over time, at most MAX_POINTS points a series: process → [t, cpu % of a core, rss MB],
    # action kind → [t, count, p95 s] per bin
    resources: dict[str, list[tuple[float, float, float]]] = field(default_factory=dict)
    api_over_time: dict[str, list[tuple[float, int, float | None]]] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["schema"] = "camsim.verdict/1"
        d["passed"] = self.passed
        for f, cf in zip(d["frames"], self.frames, strict=True):
            f["ratio"] = cf.ratio
        return d
