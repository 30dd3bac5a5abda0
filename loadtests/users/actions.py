"""What each operator action does to the target, on the replay's clock.

Simulated durations become wall-clock ones (`duration_s / speed`); a review's or an export's
`from_s` becomes the wall-clock time at which the target recorded that simulated second
(clamped to the replay's start: nothing earlier was recorded during the run).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import gevent

from loadtests.bounded_stats import failure
from simulator.targets.base import NotSupported, Target, TargetError
from simulator.timeline.clock import ReplayClock
from simulator.timeline.event import Event

ACTION = "ACTION"  # request_type of the actions fired through `events.request`
INTEGRATION = "INTEGRATION"  # request_type of the alarms the integration posts
UNSUPPORTED = "UNSUPPORTED"  # a step the target cannot do: counted, not failed


@dataclass(frozen=True)
class AnchoredClock:
    """The replay's clock, anchored at the Unix time at which it started."""

    clock: ReplayClock  # started on the dispatcher's clock
    unix_origin: float

    def wall(self, sim_seconds: float) -> float:
        return self.clock.wall_seconds(sim_seconds)

    def recorded_at(self, sim_t: float) -> datetime:
        """When the target recorded simulated second `sim_t` (not before the replay began)."""
        since = max(0.0, sim_t - self.clock.start_at) / self.clock.speed
        return datetime.fromtimestamp(self.unix_origin + since, UTC)


class UnknownCamera(TargetError):
    """The schedule names a camera the target does not have."""


class Actions:
    """Runs one action event against the target and reports it (request_type ACTION,
    name=kind, response_time = the whole action, exception = the first failure)."""

    def __init__(
        self,
        target: Target,
        cameras: Mapping[str, str],
        clock: AnchoredClock,
        fire: Callable[..., None],
        integration: bool = False,
    ) -> None:
        self.target = target
        self.cameras = cameras  # camsim camera id → the target's id
        self.clock = clock
        self.fire = fire
        self.integration = integration  # an IntegrationUser raises the alarms

    def run(self, event: Event) -> None:
        self._timed(ACTION, event, getattr(self, event.kind))

    def post_alarm(self, event: Event) -> None:
        """The integration's half of an alarm check: the alarm raised on the camera."""
        self._timed(INTEGRATION, event, self._raise)

    def _raise(self, e: Event, tid: str) -> int:
        try:
            self.target.alarm(tid, True)
        except NotSupported:
            self._unsupported("integration", "alarm")
        return 0

    def _timed(self, request_type: str, event: Event, do: Callable[[Event, str], int]) -> None:
        t0 = time.perf_counter()
        got, exc = 0, None
        try:
            got = do(event, self._target_id(event))
        except Exception as err:  # noqa: BLE001 - any failure of the action is its outcome
            exc = failure(err)
        planned = self.planned_s(event) if request_type == ACTION else 0.0
        self.fire(
            request_type=request_type, name=event.kind,
            response_time=(time.perf_counter() - t0) * 1000, response_length=got, exception=exc,
            context={"camera": event.camera, "planned_s": planned},
        )  # fmt: skip

    def planned_s(self, e: Event) -> float:
        """The wall-clock time an action spends by design (watching, playing back, waiting
        for the operator), apart from the target's response times."""
        p, wall = e.params, self.clock.wall
        if e.kind in ("live_view", "live_transfer", "alarm"):
            return wall(p["duration_s"])
        if e.kind == "incident_response":
            return wall(p["duration_s"]) / 2
        if e.kind == "review":
            return wall(p["length_s"]) / p["speed"]
        return 0.0

    def _target_id(self, event: Event) -> str:
        try:
            return self.cameras[event.camera or ""]
        except KeyError:
            raise UnknownCamera(f"camera {event.camera} is not on the target") from None

    def _unsupported(self, kind: str, step: str) -> None:
        self.fire(
            request_type=UNSUPPORTED, name=f"{kind}/{step}", response_time=0.0,
            response_length=0, exception=None, context={},
        )  # fmt: skip

    # --- the kinds ---------------------------------------------------------------------------
    def live_view(self, e: Event, tid: str) -> int:
        return self.target.live_view(tid, self.clock.wall(e.params["duration_s"])).bytes

    live_transfer = live_view

    def review(self, e: Event, tid: str) -> int:
        p = e.params
        start = self.clock.recorded_at(p["from_s"])
        return self.target.playback(tid, start, self.clock.wall(p["length_s"]), p["speed"]).bytes

    def export(self, e: Event, tid: str) -> int:
        start = self.clock.recorded_at(e.params["from_s"])
        return self.target.export(tid, start, self.clock.wall(e.params["length_s"])).bytes

    def alarm(self, e: Event, tid: str) -> int:
        """An integration raises the alarm (the IntegrationUser, or here); the operator
        acknowledges it when the check ends."""
        if not self.integration:
            self.target.alarm(tid, True)
        gevent.sleep(self.clock.wall(e.params["duration_s"]))
        self.target.acknowledge(tid)
        return 0

    def incident_response(self, e: Event, tid: str) -> int:
        """Watch the camera for half the handling time, move it, then mark the moment (an
        event forced on and off: the bookmark ZoneMinder can make)."""
        p = e.params
        got = self.target.live_view(tid, self.clock.wall(p["duration_s"]) / 2).bytes
        for i in range(p["ptz_moves"]):
            try:
                self.target.ptz(tid, pan=0.1 * (-1) ** i, tilt=0.05, zoom=0.0)
            except NotSupported:
                self._unsupported(e.kind, "ptz")
                break
        try:
            self.target.alarm(tid, True)
            self.target.alarm(tid, False)
        except NotSupported:
            self._unsupported(e.kind, "bookmark")
        return got
