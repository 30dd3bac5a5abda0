"""The applier: what each timeline event does to the cameras being served.

The model decides *when* things happen (simulator.timeline); this module decides what a
camera then does on the wire. Offline cameras (failed, or behind a failed link without a
working backup) lose their sessions and answer 503. A freeze or frame drops withhold frames
(until the next keyframe, as a decoder could not use the rest), packet loss withholds RTP
packets, jitter delays frames, a bitrate spike adds filler NAL units, a reconnect storm closes
every session of a district at once, a clock jump shifts the camera's RTCP wall clock (and
its SEI send time): the shifts add up to at most MAX_CLOCK_OFFSET_S either way, so the wall
clock a camera sends stays positive and fits its fields.
Server failures, activity episodes and operators' actions do not change the streams; they
are only counted.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from simulator.timeline.clock import ReplayClock, resume
from simulator.timeline.event import Event, LinkId
from simulator.timeline.kinds import KINDS

APPLIED_KEPT = 200  # applied events remembered for GET /api/timeline
UPCOMING_SHOWN = 20
MAX_CLOCK_OFFSET_S = 1e9  # a camera's total clock offset, either way (one jump's own range)
MAX_ECHO = 40  # characters of a name from a request quoted back in an error


@dataclass(slots=True)
class FaultState:
    """What one camera shows on the wire now; times are on the server's event-loop clock."""

    offline: set[str] = field(default_factory=set)  # why it is offline: camera, network
    night: bool = False
    freeze_until: float = 0.0
    drops_until: float = 0.0
    drop_rate: float = 0.0
    loss_until: float = 0.0
    loss_rate: float = 0.0
    jitter_until: float = 0.0
    jitter_s: float = 0.0
    spike_until: float = 0.0
    spike_factor: float = 1.0
    clock_offset_s: float = 0.0

    def active(self, now: float) -> list[str]:
        """Names of the faults in effect at `now`."""
        out = [f"offline:{r}" for r in sorted(self.offline)]
        for name, until in (
            ("stream_freeze", self.freeze_until),
            ("frame_drops", self.drops_until),
            ("packet_loss", self.loss_until),
            ("jitter", self.jitter_until),
            ("bitrate_spike", self.spike_until),
        ):
            if until > now:
                out.append(name)
        if self.clock_offset_s:
            out.append("clock_jump")
        return out


def fault_event(kind_name: str, camera: str, district: str, body: dict[str, Any]) -> Event:
    """Check an API fault request for a camera against the registry and turn it into an
    Event (on the camera, or its district for a storm; durations in wall-clock seconds);
    raises ValueError with a one-line reason (quoting at most MAX_ECHO characters of it)."""
    allowed = ", ".join(n for n, v in KINDS.items() if v.injectable)
    k = KINDS.get(kind_name)
    if k is None or not k.injectable:
        raise ValueError(f"{_echo(kind_name)} cannot be injected into a camera (one of {allowed})")
    names = k.params.model_fields
    for name in body:
        if name != "kind" and name not in names:
            known = ", ".join(names) or "none"
            raise ValueError(f"{k.name}: unknown parameter {_echo(name)} (allowed: {known})")
    params = k.check({name: v for name, v in body.items() if name != "kind"})
    if k.subject == "district":
        return Event(0.0, k.name, district=district, params=params)
    return Event(0.0, k.name, camera=camera, params=params)


def _echo(text: str) -> str:
    """A name from a request, quoted and cut to MAX_ECHO characters."""
    return repr(text if len(text) <= MAX_ECHO else text[:MAX_ECHO] + "…")


def clamp_offset(offset_s: float) -> float:
    """A camera's total clock offset within ±MAX_CLOCK_OFFSET_S."""
    return max(-MAX_CLOCK_OFFSET_S, min(MAX_CLOCK_OFFSET_S, offset_s))


@dataclass
class Applied:
    """One event as the server applied it."""

    seq: int  # 1 for the first event applied, and so on: a reader can tell what it missed
    event: Event
    wall: float  # Unix time it was applied
    until: float | None = None  # Unix time a timed fault ends


@dataclass
class FaultApplier:
    """Applies events to the served cameras' FaultState and cuts sessions when needed."""

    states: dict[str, FaultState]  # camera id → state, only the cameras served
    district_of: dict[str, str]  # camera id → district
    with_backup: set[str]  # districts whose uplink has a backup link
    cut: Callable[[str], None]  # close every session of a camera
    links_down: set[LinkId] = field(default_factory=set)
    counts: dict[str, int] = field(default_factory=dict)  # events applied, by kind
    applied: deque[Applied] = field(default_factory=lambda: deque(maxlen=APPLIED_KEPT))
    # called with (event, loop time) after each event is applied (the ONVIF events' feed)
    observers: list[Callable[[Event, float], None]] = field(default_factory=list)

    @property
    def total(self) -> int:
        """Events applied so far."""
        return sum(self.counts.values())

    def refuse(self, event: Event) -> str | None:
        """Why an injected event is refused, if it is: a clock jump that would take its
        camera's total offset beyond ±MAX_CLOCK_OFFSET_S (a replayed one is clamped)."""
        s = self.states.get(event.camera or "")
        if event.kind != "clock_jump" or s is None:
            return None
        total = s.clock_offset_s + event.params["offset_s"]
        if abs(total) <= MAX_CLOCK_OFFSET_S:
            return None
        return (f"clock_jump: the camera's clock offset would be {total:.6g} s; it is "
                f"{s.clock_offset_s:.6g} s and stays within ±{MAX_CLOCK_OFFSET_S:g} s")  # fmt: skip

    def apply(self, event: Event, now: float, time_scale: float = 1.0) -> None:
        """Apply one event at loop time `now`; durations are multiplied by `time_scale`."""
        self.counts[event.kind] = self.counts.get(event.kind, 0) + 1
        k, p = event.kind, event.params
        wall = time.time()
        timed = KINDS[k].timed and KINDS[k].family == "stream"
        until = wall + p.get("duration_s", KINDS[k].defaults.get("duration_s", 0)) * time_scale
        self.applied.append(Applied(self.total, event, wall, until if timed else None))
        if k in ("camera_down", "camera_up"):
            if event.camera in self.states:
                self._set_offline(event.camera, "camera", k == "camera_down")
        elif k in ("link_down", "link_up"):
            assert event.link is not None
            (self.links_down.add if k == "link_down" else self.links_down.discard)(event.link)
            for cam in self._behind(event.link):
                self._set_offline(cam, "network", self._unreachable(cam))
        elif k in ("night", "day"):
            for s in self.states.values():
                s.night = k == "night"
        elif k == "reconnect_storm":
            for cam, d in self.district_of.items():
                if d == event.district:
                    self.cut(cam)
        elif event.camera in self.states and KINDS[k].family == "stream":
            p = {**KINDS[k].defaults, **p}
            self._stream_fault(self.states[event.camera], k, p, now, time_scale)
        for observe in self.observers:
            observe(event, now)

    def _stream_fault(
        self, s: FaultState, k: str, p: dict[str, Any], now: float, scale: float
    ) -> None:
        until = now + p.get("duration_s", 0.0) * scale
        if k == "stream_freeze":
            s.freeze_until = max(s.freeze_until, until)
        elif k == "frame_drops":
            s.drops_until, s.drop_rate = until, p["rate"]
        elif k == "packet_loss":
            s.loss_until, s.loss_rate = until, p["percent"] / 100
        elif k == "jitter":
            s.jitter_until, s.jitter_s = until, p["ms"] / 1000
        elif k == "bitrate_spike":
            s.spike_until, s.spike_factor = until, p["factor"]
        elif k == "clock_jump":
            s.clock_offset_s = clamp_offset(s.clock_offset_s + p["offset_s"])

    def _behind(self, link: LinkId) -> Iterable[str]:
        if link.kind == "access":
            return [link.name] if link.name in self.states else []
        if link.kind in ("uplink", "backup"):
            return [c for c, d in self.district_of.items() if d == link.name]
        return list(self.states)  # the core

    def _unreachable(self, cam: str) -> bool:
        down = self.links_down
        d = self.district_of[cam]
        uplink_cut = LinkId("uplink", d) in down and (
            d not in self.with_backup or LinkId("backup", d) in down
        )
        return LinkId("access", cam) in down or LinkId("core") in down or uplink_cut

    def _set_offline(self, cam: str, reason: str, offline: bool) -> None:
        s = self.states[cam]
        was = bool(s.offline)
        (s.offline.add if offline else s.offline.discard)(reason)
        if s.offline and not was:
            self.cut(cam)


@dataclass
class Replay:
    """The timeline being replayed: its clock (once started) and what is still to come."""

    events: list[Event]
    clock: ReplayClock
    next_index: int = 0
    started: bool = False

    def upcoming(self, n: int = UPCOMING_SHOWN) -> list[Event]:
        return self.events[self.next_index : self.next_index + n]


async def replay(replay: Replay, applier: FaultApplier) -> None:
    """Apply the timeline in wall-clock time on the running loop's clock: what is still in
    effect at `start_at` at once, the rest when due."""
    loop = asyncio.get_running_loop()
    replay.clock = clock = replay.clock.started(loop.time())
    replay.started = True
    scale = 1.0 / clock.speed
    now, later = resume(replay.events, clock.start_at)
    for event in now:
        applier.apply(event, loop.time(), scale)
    replay.events, replay.next_index = later, 0
    for i, event in enumerate(later):
        delay = clock.wall_at(event.t) - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        applier.apply(event, loop.time(), scale)
        replay.next_index = i + 1
