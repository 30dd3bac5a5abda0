"""The open-model dispatcher: the schedule, not the target, decides when each action starts.

One greenlet walks the schedule in time order, sleeps until each action is due and spawns a
greenlet for it, so a slow target never slows the offered load (no coordinated omission). It
measures its own lateness: the dispatch lag (start minus due), the actions started late, and
the actions dropped because too many were still in flight (never silently).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import gevent
from gevent.pool import Pool

#: request_type of the dispatch measurements fired through `events.request`.
DISPATCH = "DISPATCH"


class LateStart(Exception):
    """An action started later than the threshold after it was due (our lateness, not the
    target's)."""


class Dropped(Exception):
    """An action not started because the dispatcher already had its maximum in flight."""


@dataclass
class Tally:
    """What the dispatcher did: actions started, started late, dropped; the worst lag."""

    started: int = 0
    late: int = 0
    dropped: int = 0
    max_lag_s: float = 0.0


@dataclass(frozen=True)
class Due:
    """One action of the schedule: when it is due on the dispatcher's clock, and what it is."""

    at: float
    kind: str
    item: Any


Fire = Callable[..., None]  # events.request.fire


class Dispatcher:
    """Starts each `Due` at its time through `run(item)` in its own greenlet.

    `fire` is Locust's `events.request.fire`: every start is reported as request_type
    DISPATCH, name=kind, response_time = lag in ms (exception LateStart above `late_s`,
    Dropped when `max_in_flight` actions are running)."""

    def __init__(
        self,
        schedule: Iterable[Due],
        run: Callable[[Any], None],
        fire: Fire,
        *,
        max_in_flight: int = 1000,
        late_s: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_in_flight < 1:
            raise ValueError(f"max_in_flight must be ≥ 1, got {max_in_flight}")
        self.schedule = schedule
        self.run = run
        self.fire = fire
        self.late_s = late_s
        self.clock = clock
        self.max_in_flight = max_in_flight
        self.pool = Pool(max_in_flight)
        self.tally = Tally()
        self.walker: gevent.Greenlet | None = None

    @property
    def in_flight(self) -> int:
        return len(self.pool)

    def start(self) -> gevent.Greenlet:
        self.walker = gevent.spawn(self._walk)
        return self.walker

    def join(self, timeout: float | None = None) -> bool:
        """Wait until the schedule is walked and every action has ended."""
        if self.walker is not None:
            self.walker.join(timeout)
            if not self.walker.ready():
                return False
        return self.pool.join(timeout)

    def stop(self) -> None:
        """Stop walking and kill the actions in flight."""
        if self.walker is not None:
            self.walker.kill(block=False)
        self.pool.kill(block=False)

    def _walk(self) -> None:
        for due in self.schedule:
            wait = due.at - self.clock()
            if wait > 0:
                gevent.sleep(wait)
            if self.pool.full():
                lag = self.clock() - due.at
                self.tally.dropped += 1
                self._report(due.kind, lag, Dropped(f"dropped: {self.max_in_flight} in flight"))
                continue
            self.pool.spawn(self._start, due)

    def _start(self, due: Due) -> None:
        lag = self.clock() - due.at
        t = self.tally
        t.started += 1
        t.max_lag_s = max(t.max_lag_s, lag)
        late = lag > self.late_s
        if late:
            t.late += 1
        exc = LateStart(f"late start: lag > {self.late_s * 1000:g} ms") if late else None
        self._report(due.kind, lag, exc)
        self.run(due.item)

    def _report(self, kind: str, lag: float, exc: Exception | None) -> None:
        self.fire(
            request_type=DISPATCH, name=kind, response_time=max(0.0, lag) * 1000.0,
            response_length=0, exception=exc, context={},
        )  # fmt: skip
