"""The open-model dispatcher against a real target that takes 2 s to answer: the offered load
follows the schedule, not the target, and the dispatcher's own lag is measured."""

from __future__ import annotations

import time

import gevent
import numpy as np
from gevent import socket

from loadtests.users.dispatcher import DISPATCH, Dispatcher, Dropped, Due, LateStart


def get(port: int) -> bytes:
    """One HTTP GET on a gevent socket (cooperative without monkey-patching)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(b"GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    return data


class Recorder:
    """Stands for Locust's events.request: keeps what is fired."""

    def __init__(self) -> None:
        self.fired: list[dict] = []

    def fire(self, **kw) -> None:  # noqa: ANN003
        self.fired.append(kw)


def schedule(n: int, rate: float, origin: float) -> list[Due]:
    return [Due(origin + i / rate, "live_view", i) for i in range(n)]


def test_a_slow_target_does_not_slow_the_offered_load(slow_server) -> None:
    port, delay = slow_server
    n, rate = 200, 40.0  # 5 s of schedule, about 80 requests in flight at once
    started, answers = {}, {}

    def run(i: int) -> None:
        started[i] = time.monotonic()
        t0 = time.monotonic()
        answers[i] = (get(port).endswith(b"ok"), time.monotonic() - t0)

    rec = Recorder()
    origin = time.monotonic() + 0.5
    d = Dispatcher(schedule(n, rate, origin), run, rec.fire, max_in_flight=1000, late_s=0.05)
    d.start()
    assert d.join(timeout=60)
    # every action started, when it was due: the schedule took its 5 s, not n × 2 s
    assert d.tally.started == n and d.tally.dropped == 0
    assert max(started.values()) - origin < (n - 1) / rate + 0.05
    # the target really was slow: each answer took the server's 2 s
    assert all(ok for ok, _ in answers.values())
    assert min(s for _, s in answers.values()) >= delay - 0.01
    lags = np.array([f["response_time"] for f in rec.fired if f["request_type"] == DISPATCH])
    assert len(lags) == n
    assert np.percentile(lags, 99) < 50.0, f"dispatch lag p99 {np.percentile(lags, 99):.1f} ms"
    assert d.tally.late == sum(isinstance(f["exception"], LateStart) for f in rec.fired)


def test_actions_beyond_the_maximum_in_flight_are_dropped_and_counted(slow_server) -> None:
    port, _ = slow_server
    rec = Recorder()
    d = Dispatcher(schedule(30, 100.0, time.monotonic()), lambda i: get(port), rec.fire,
                   max_in_flight=10)  # fmt: skip
    d.start()
    assert d.join(timeout=30)
    # 30 due within 0.3 s, each holding its slot for 2 s: ten run, twenty are dropped
    assert (d.tally.started, d.tally.dropped) == (10, 20)
    drops = [f for f in rec.fired if isinstance(f["exception"], Dropped)]
    assert len(drops) == 20 and all(f["name"] == "live_view" for f in drops)


def test_lag_is_measured_when_the_dispatcher_itself_is_held_up() -> None:
    rec = Recorder()
    origin = time.monotonic() + 0.2
    d = Dispatcher(schedule(5, 10.0, origin), lambda i: None, rec.fire, late_s=0.1)
    d.start()
    time.sleep(0.6)  # blocks the hub: actions due meanwhile start late, and say so
    assert d.join(timeout=5)
    lags = [f["response_time"] for f in rec.fired]
    assert lags[0] > 300 and d.tally.late >= 3
    assert sum(isinstance(f["exception"], LateStart) for f in rec.fired) == d.tally.late
    gevent.sleep(0)


def test_workers_are_kept_and_reused_not_one_greenlet_per_action() -> None:
    ran: list[int] = []

    def run(i: int) -> None:
        ran.append(id(gevent.getcurrent()))
        gevent.sleep(0.02)

    d = Dispatcher(schedule(200, 400.0, time.monotonic() + 0.05), run, Recorder().fire)
    d.start()
    assert d.join(timeout=10)
    # about 8 in flight at once (400/s × 20 ms): that many workers, each running many actions
    assert d.tally.started == 200 and len(ran) == 200
    assert len(set(ran)) <= 20 and len(d.workers) == len(set(ran)) and d.in_flight == 0
    d.stop()
    gevent.sleep(0)
    assert not d.workers and not d.idle


def test_actions_due_within_a_tick_start_together_never_later_than_the_tick() -> None:
    starts: list[float] = []
    rec = Recorder()
    origin = time.monotonic() + 0.05
    d = Dispatcher(schedule(100, 1000.0, origin), lambda i: starts.append(time.monotonic()),
                   rec.fire, tick_s=0.01)  # fmt: skip
    d.start()
    assert d.join(timeout=10)
    lags = [f["response_time"] for f in rec.fired]
    assert len(lags) == 100 and max(lags) < 10 + 5  # ms: the tick, and a little scheduling
    assert max(lags) > 3  # some did wait for the tick (their lag says so)
    batches = 1 + sum(b - a > 0.002 for a, b in zip(starts, starts[1:], strict=False))
    assert batches <= 15  # 100 ms of schedule in 10 ms ticks, not 100 wake-ups


def test_a_schedule_that_fails_ends_the_walk_with_what_was_started() -> None:
    def broken():  # noqa: ANN202
        yield from schedule(3, 100.0, time.monotonic())
        raise ValueError("a bad line in the timeline")

    d = Dispatcher(broken(), lambda i: None, Recorder().fire)
    d.start()
    assert d.join(timeout=5) and d.tally.started == 3
