"""The open-model dispatcher: the schedule, not the target, decides when each action starts.

A walker goes through the schedule in time order and hands each action, when it is due, to a
worker greenlet, so a slow target never slows the offered load (no coordinated omission). It
measures its own lateness: the dispatch lag (start minus due), the actions started late, and
the actions dropped because too many were still in flight (never silently).

Cheap by design: the workers are kept and reused (a new greenlet costs its creation, an mmap
and an munmap of its stack: more than the dispatch itself), and the process is not woken for
every action (each wake-up of an idle process costs tens of microseconds of CPU): the walker
runs in the event loop, starting what is due whenever the loop wakes anyway (an answer came)
and, on its own timer, at most once every `tick_s`, so an action starts at most `tick_s`
after it is due (and its lag, which includes that wait, is measured as before).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import gevent
from gevent.event import Event
from gevent.hub import Waiter, get_hub

log = logging.getLogger(__name__)

#: request_type of the dispatch measurements fired through `events.request`.
DISPATCH = "DISPATCH"
#: The walker's own timer fires at most this often (s): how late it may start an action.
TICK_S = 0.010
#: Idle workers kept for the next actions (each a parked greenlet, a few tens of KB).
MAX_IDLE = 128


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
    """Starts each `Due` at its time through `run(item)` in a worker greenlet.

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
        tick_s: float | None = None,
        max_idle: int = MAX_IDLE,
    ) -> None:
        if max_in_flight < 1:
            raise ValueError(f"max_in_flight must be ≥ 1, got {max_in_flight}")
        self.schedule = schedule
        self.run = run
        self.fire = fire
        self.late_s = late_s
        self.clock = clock
        self.tick_s = TICK_S if tick_s is None else tick_s
        self.max_in_flight = max_in_flight
        self.max_idle = min(max_idle, max_in_flight)
        self.tally = Tally()
        self._schedule = iter(schedule)
        self._next: Due | None = None
        self._loop = get_hub().loop
        self._timer: Any = None  # the walker's (a loop watcher)
        self._check: Any = None
        self._woke = float("-inf")  # when the walker last started actions
        self.walked = Event()  # set once every action has been started or dropped
        self.workers: set[gevent.Greenlet] = set()  # at most max_in_flight
        self.idle: list[tuple[gevent.Greenlet, Waiter]] = []  # at most max_idle, parked
        self.quiet = Event()  # set while no action is in flight
        self.quiet.set()

    @property
    def in_flight(self) -> int:
        return len(self.workers) - len(self.idle)

    def start(self) -> None:
        """Start walking (in the calling thread's event loop)."""
        self._next = self._advance()
        if self._next is None:
            self._finish()
            return
        self._check = self._loop.check(ref=False)  # after every wake-up of the loop
        self._check.start(self._pump, False)
        self._arm()

    def join(self, timeout: float | None = None) -> bool:
        """Wait until the schedule is walked and every action has ended."""
        deadline = None if timeout is None else time.monotonic() + timeout
        if not self.walked.wait(timeout):
            return False
        left = None if deadline is None else max(0.0, deadline - time.monotonic())
        return self.quiet.wait(left)

    def stop(self) -> None:
        """Stop walking and kill the actions in flight (and the idle workers)."""
        self._finish()
        gevent.killall(list(self.workers), block=False)

    def _pump(self, by_timer: bool) -> None:
        """Start what is due (called by the loop: the walker's timer, or any wake-up)."""
        now = self.clock()
        if by_timer:
            self._timer = None
        nxt = self._next
        if nxt is None or nxt.at > now:
            if by_timer and nxt is not None:  # the loop's clock ran a little ahead of ours
                self._arm()
            return
        self._woke = now
        while nxt is not None and nxt.at <= now:
            self._dispatch(nxt)
            nxt = self._next = self._advance()
        if nxt is None:
            self._finish()
        else:
            self._arm()

    def _arm(self) -> None:
        """The walker's timer: when the next action is due, but not within `tick_s` of the
        last start (what falls due meanwhile waits for a wake-up of the loop, or the tick)."""
        if self._timer is not None:
            self._timer.close()
        assert self._next is not None
        wait = max(self._next.at, self._woke + self.tick_s) - self.clock()
        self._timer = self._loop.timer(max(0.0, wait))
        self._timer.start(self._pump, True)

    def _advance(self) -> Due | None:
        try:
            return next(self._schedule, None)
        except Exception:  # the schedule could not be read on: said, and the walk ends
            log.exception("the schedule stopped")
            return None

    def _finish(self) -> None:
        for watcher in (self._check, self._timer):
            if watcher is not None:
                watcher.close()
        self._check = self._timer = None
        self._next = None
        self.walked.set()

    def _dispatch(self, due: Due) -> None:
        """Hand `due` to an idle worker, or a new one, or drop it when all are busy."""
        self.quiet.clear()
        if self.idle:
            _, waiter = self.idle.pop()
            self._loop.run_callback(waiter.switch, due)
        elif len(self.workers) < self.max_in_flight:
            self.workers.add(gevent.spawn(self._work, due))
        else:
            self.tally.dropped += 1
            lag = self.clock() - due.at
            self._report(due.kind, lag, Dropped(f"dropped: {self.max_in_flight} in flight"))
            if not self.in_flight:
                self.quiet.set()

    def _work(self, due: Due) -> None:
        """A worker: runs what it is handed, then waits (parked) for the next action."""
        me = gevent.getcurrent()
        waiter = Waiter()
        try:
            while True:
                self._start(due)
                if len(self.idle) >= self.max_idle:
                    return
                waiter.clear()
                self.idle.append((me, waiter))
                if len(self.idle) == len(self.workers):
                    self.quiet.set()
                due = waiter.get()
        finally:
            self.workers.discard(me)
            if any(w is me for w, _ in self.idle):  # killed while parked
                self.idle = [(w, x) for w, x in self.idle if w is not me]
            if not self.in_flight:
                self.quiet.set()

    def _start(self, due: Due) -> None:
        lag = self.clock() - due.at
        t = self.tally
        t.started += 1
        if lag > t.max_lag_s:
            t.max_lag_s = lag
        exc = None
        if lag > self.late_s:
            t.late += 1
            exc = LateStart(f"late start: lag > {self.late_s * 1000:g} ms")
        self._report(due.kind, lag, exc)
        self.run(due.item)  # an exception ends the worker (and gevent prints it)

    def _report(self, kind: str, lag: float, exc: Exception | None) -> None:
        self.fire(
            request_type=DISPATCH, name=kind, response_time=max(0.0, lag) * 1000.0,
            response_length=0, exception=exc, context={},
        )  # fmt: skip
