"""Faults on the wire: what each timeline event does to the cameras being served.

The model decides *when* things happen (simulator.timeline.Event); this module decides what
a camera then does on the wire. Offline cameras (failed, or behind a failed link without a
working backup) lose their sessions and answer 503. A freeze or frame drops withhold frames
(until the next keyframe, as a decoder could not use the rest), packet loss withholds RTP
packets, jitter delays frames, a bitrate spike adds filler NAL units, a reconnect storm closes
every session of a district at once, a clock jump shifts the camera's RTCP wall clock.
Server failures and activity episodes do not change the streams; they are only counted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from simulator.timeline import Event

#: Stream faults with a duration, and their parameters with (min, max, default).
TIMED = {
    "stream_freeze": {},
    "frame_drops": {"rate": (0.0, 1.0, 0.1)},
    "packet_loss": {"percent": (0.0, 100.0, 1.0)},
    "jitter": {"ms": (0.0, 5000.0, 30.0)},
    "bitrate_spike": {"factor": (1.0, 20.0, 2.0)},
}
#: Faults that can be injected through the control API for one camera.
INJECTABLE = {*TIMED, "camera_down", "camera_up", "reconnect_storm", "clock_jump"}


@dataclass(slots=True)
class FaultState:
    """What one camera shows on the wire now; times are on the server's event-loop clock."""

    offline: set[str] = field(default_factory=set)  # why it is offline: camera, access, ...
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


def fault_event(kind: str, camera: str, body: dict[str, Any]) -> Event:
    """Check an API fault request and turn it into an Event (raises ValueError)."""
    if kind not in INJECTABLE:
        raise ValueError(f"unknown fault kind {kind!r} (one of {', '.join(sorted(INJECTABLE))})")
    allowed = (
        {"duration_s"}
        | set(TIMED.get(kind, {}))
        | ({"offset_s"} if kind == "clock_jump" else set())
    )
    extra = set(body) - allowed - {"kind"}
    if extra:
        raise ValueError(f"{kind}: unexpected field(s) {', '.join(sorted(extra))}")
    params: dict[str, Any] = {}
    for name, (lo, hi, default) in TIMED.get(kind, {}).items():
        params[name] = _number(body, name, lo, hi, default)
    if kind in TIMED:
        params["duration_s"] = _number(body, "duration_s", 0.0, 86400.0, 10.0)
    if kind == "clock_jump":
        params["offset_s"] = _number(body, "offset_s", -1e9, 1e9, 3600.0)
    return Event(0.0, kind, camera=camera, params=params)


def _number(body: dict[str, Any], name: str, lo: float, hi: float, default: float) -> float:
    value = body.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
        raise ValueError(f"{name} must be a number from {lo:g} to {hi:g}, got {value!r}")
    return float(value)


@dataclass
class FaultApplier:
    """Applies events to the served cameras' FaultState and cuts sessions when needed."""

    states: dict[str, FaultState]  # camera id → state, only the cameras served
    district_of: dict[str, str]  # camera id → district
    with_backup: set[str]  # districts whose uplink has a backup link
    cut: Callable[[str], None]  # close every session of a camera
    links_down: set[str] = field(default_factory=set)
    counts: dict[str, int] = field(default_factory=dict)  # events applied, by kind

    def apply(self, event: Event, now: float, time_scale: float = 1.0) -> None:
        """Apply one event at loop time `now`; durations are multiplied by `time_scale`."""
        self.counts[event.kind] = self.counts.get(event.kind, 0) + 1
        kind, p = event.kind, event.params
        duration = float(p.get("duration_s", 0.0)) * time_scale
        if kind in ("camera_down", "camera_up"):
            if event.camera in self.states:
                self._set_offline(event.camera, "camera", kind == "camera_down")
        elif kind in ("link_down", "link_up"):
            target = event.target or ""
            (self.links_down.add if kind == "link_down" else self.links_down.discard)(target)
            for cam in self._behind(event):
                self._set_offline(cam, "network", self._unreachable(cam))
        elif kind in ("night", "day"):
            for s in self.states.values():
                s.night = kind == "night"
        elif kind == "reconnect_storm":
            district = event.district or self.district_of.get(event.camera or "")
            for cam, d in self.district_of.items():
                if d == district:
                    self.cut(cam)
        elif event.camera in self.states:
            self._timed(self.states[event.camera], kind, p, now, duration)

    def _timed(
        self, s: FaultState, kind: str, p: dict[str, Any], now: float, duration: float
    ) -> None:
        until = now + duration
        if kind == "stream_freeze":
            s.freeze_until = max(s.freeze_until, until)
        elif kind == "frame_drops":
            s.drops_until, s.drop_rate = until, float(p.get("rate", 0.1))
        elif kind == "packet_loss":
            s.loss_until, s.loss_rate = until, float(p.get("percent", 1.0)) / 100
        elif kind == "jitter":
            s.jitter_until, s.jitter_s = until, float(p.get("ms", 30.0)) / 1000
        elif kind == "bitrate_spike":
            s.spike_until, s.spike_factor = until, float(p.get("factor", 2.0))
        elif kind == "clock_jump":
            s.clock_offset_s += float(p.get("offset_s", 0.0))

    def _behind(self, event: Event) -> Iterable[str]:
        target = event.target or ""
        if target.startswith("access:"):
            cam = target.split(":", 1)[1]
            return [cam] if cam in self.states else []
        if target.startswith(("uplink:", "backup:")):
            district = target.split(":", 1)[1]
            return [c for c, d in self.district_of.items() if d == district]
        return list(self.states)  # the core link, or a link this server does not know

    def _unreachable(self, cam: str) -> bool:
        down = self.links_down
        d = self.district_of[cam]
        uplink_cut = f"uplink:{d}" in down and (d not in self.with_backup or f"backup:{d}" in down)
        return f"access:{cam}" in down or "core" in down or uplink_cut

    def _set_offline(self, cam: str, reason: str, offline: bool) -> None:
        s = self.states[cam]
        was = bool(s.offline)
        (s.offline.add if offline else s.offline.discard)(reason)
        if s.offline and not was:
            self.cut(cam)


async def replay(
    events: Iterable[Event], applier: FaultApplier, speed: float = 1.0, start_s: float = 0.0
) -> None:
    """Apply timeline events in wall-clock time: simulated second t happens at t / speed."""
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    scale = 1.0 / speed
    for event in sorted(events, key=lambda e: e.t):
        if event.t < start_s:
            left = event.t + float(event.params.get("duration_s", 0.0)) - start_s
            if event.kind not in TIMED or left > 0:
                params = (
                    {**event.params, "duration_s": left} if event.kind in TIMED else event.params
                )
                applier.apply(
                    Event(event.t, event.kind, event.camera, event.district, event.target, params),
                    loop.time(),
                    scale,
                )
            continue
        delay = t0 + (event.t - start_s) * scale - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        applier.apply(event, loop.time(), scale)
