"""Soak without drift: error keys bounded, Locust's history and per-second counts capped."""

from __future__ import annotations

import os
import time

# Locust's statistics without its monkey-patching of the test process
os.environ["LOCUST_SKIP_MONKEY_PATCH"] = "1"
try:
    from locust.stats import RequestStats, StatsError
finally:
    del os.environ["LOCUST_SKIP_MONKEY_PATCH"]

from loadtests.bounded_stats import MAX_ERROR, Failure, NormalisingHook, Trimmer, normalise


def test_what_varies_in_an_error_is_taken_out() -> None:
    url = "GET http://127.0.0.1:8089/zm/cgi-bin/nph-zms?mode=jpeg"
    a = f"live_view: {url}&monitor=12&token=ab12cd answered 500: monitor 12 <C object at 0x7f3a>"
    b = f"live_view: {url}&monitor=7&token=ffee99 answered 500: monitor 7 <C object at 0x7f00>"
    assert normalise(a) == normalise(b)
    assert "token" not in normalise(a) and "0x7f" not in normalise(a)
    assert normalise("event 3f2a9c1d-77aa-4b1e failed after 12.5 s") == "event … failed after # s"
    assert len(normalise("x" * 1000)) == MAX_ERROR


def test_locust_keys_normalised_failures_once() -> None:
    stats = RequestStats()
    hook = NormalisingHook(lambda **kw: stats.log_error(kw["request_type"], kw["name"],
                                                        kw["exception"]))  # fmt: skip
    for i in range(500):
        exc = OSError(f"connect to 127.0.0.1:{40000 + i} refused after {i} ms")
        hook.fire(request_type="GET", name="live_view", exception=exc)
    assert len(stats.errors) == 1
    (err,) = stats.errors.values()
    assert err.occurrences == 500 and StatsError.parse_error(err.error).startswith("Failure(")
    assert isinstance(Failure("x"), Exception)


def test_the_trimmer_caps_history_and_per_second_counts() -> None:
    stats = RequestStats()
    now = int(time.time())
    for t in range(now - 3600, now):
        stats.total.num_reqs_per_sec[t] = 1
        stats.get("live_view", "ACTION").num_reqs_per_sec[t] = 1
        stats.get("live_view", "ACTION").num_fail_per_sec[t] = 1
    stats.history.extend({"time": i} for i in range(5000))
    Trimmer(stats, history=100, window_s=60).trim(now)
    assert len(stats.history) == 100 and stats.history[-1] == {"time": 4999}
    for per_second in (stats.total.num_reqs_per_sec,
                       stats.get("live_view", "ACTION").num_fail_per_sec):  # fmt: skip
        assert min(per_second) >= now - 60 and len(per_second) == 60


def test_failures_are_kept_by_the_minute_and_the_recovery_is_seen() -> None:
    stats = RequestStats()
    start = 1_800_000_000 - 1_800_000_000 % 60  # a minute boundary
    entry = stats.get("live_view", "ACTION")
    for t in range(start, start + 10 * 60):  # ten minutes, one action a second
        entry.num_reqs_per_sec[t] = 1
        if start + 180 <= t < start + 300:  # the target down in minutes 3 and 4
            entry.num_fail_per_sec[t] = 1
    trimmer = Trimmer(stats, window_s=60)
    trimmer.trim(start + 8 * 60)  # minutes 0-6 folded on the timer, the rest at the end
    trimmer.flush()
    assert trimmer.minutes["live_view"][start // 60 + 3] == [60, 60]
    o = trimmer.outage(start)
    assert (o["failing_minutes"], o["first"], o["last"], o["back_at"]) == (2, 3, 4, 5)
    assert o["failures_by_minute"] == {"live_view": {"3": 60, "4": 60}}
    for t in range(start + 600, start + 660):  # down again until the end
        entry.num_reqs_per_sec[t] = entry.num_fail_per_sec[t] = 1
    trimmer.flush()
    assert trimmer.outage(start)["back_at"] is None
