"""The events feed: the timeline's events, as the serve applies them, as ONVIF property changes.

It watches the FaultApplier (its `observers`), keeps each camera's value of every topic, and
publishes a change only when a value changes (a second camera_down while down says
nothing). A freeze's tampering ends when the camera's freeze does (its FaultState's
freeze_until, on the loop's clock; a later freeze extends it).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from simulator.onvif.pullpoint import PullPoints
from simulator.onvif.topics import SIGNAL_LOSS, TAMPERING, TOPICS, Topic, changes
from simulator.streams.applier import FaultState
from simulator.timeline.event import Event

log = logging.getLogger(__name__)


class Feed:
    """Topic values per camera, fed by the applied timeline, published to the pull points."""

    def __init__(
        self, states: dict[str, FaultState], clock: Callable[[], float] = time.time
    ) -> None:
        self.states = states
        self.clock = clock
        self.values: dict[str, dict[Topic, bool]] = {}
        self.ends: dict[str, asyncio.TimerHandle] = {}  # a freeze's end, per camera
        self.points = PullPoints(lambda camera: self.values.get(camera, {}))

    def start(self) -> None:
        """Read every camera's state now (the events already applied), on the running loop."""
        loop = asyncio.get_running_loop()
        for cam, s in self.states.items():
            self.values[cam] = {t: False for t in TOPICS}
            self.values[cam][SIGNAL_LOSS] = "camera" in s.offline
            if s.freeze_until > loop.time():
                self.values[cam][TAMPERING] = True
                self._end_freeze_at(cam, s.freeze_until)

    def observe(self, event: Event, now: float) -> None:
        """A FaultApplier observer: one applied event at loop time `now`."""
        cam = event.camera
        if cam not in self.values:
            return
        try:
            for topic, value in changes(event):
                self._set(cam, topic, value)
            if event.kind == "stream_freeze":
                self._end_freeze_at(cam, self.states[cam].freeze_until)
        except Exception as exc:  # noqa: BLE001 - the replay goes on whatever the events do
            log.error("onvif events %s %s: %s: %s", cam, event.kind, type(exc).__name__, exc)

    def stop(self) -> None:
        for h in self.ends.values():
            h.cancel()
        self.ends.clear()

    def _set(self, cam: str, topic: Topic, value: bool) -> None:
        if self.values[cam].get(topic) == value:
            return
        self.values[cam][topic] = value
        self.points.publish(cam, topic, value, self.clock())

    def _end_freeze_at(self, cam: str, until: float) -> None:
        old = self.ends.pop(cam, None)
        if old is not None:
            old.cancel()
        self.ends[cam] = asyncio.get_running_loop().call_at(until, self._freeze_over, cam)

    def _freeze_over(self, cam: str) -> None:
        self.ends.pop(cam, None)
        until = self.states[cam].freeze_until
        if until > asyncio.get_running_loop().time():  # extended since: wait for the new end
            self._end_freeze_at(cam, until)
            return
        self._set(cam, TAMPERING, False)
