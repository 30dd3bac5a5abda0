"""Operators' actions benchmark: the cost of the load's schedule for the reference city.
Prints tables; not a test.

    python benchmarks/bench_actions.py              # 1 and 7 days, best of 3
    python benchmarks/bench_actions.py --quick      # 1 day, one run

Sections: (a) the watch run alone (`city_watch`: the Watch and the Duty); (b) `action_events`
over 1 (and 7) days: events, wall time, events/s, by kind; (c) memory: the peak traced by
tracemalloc while building the whole list, against streaming `iter_action_events` an hour at
a time (counted and dropped); (d) `build_timeline(actions=True)`, the whole 1-day timeline.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from collections import Counter  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from simulator.model.actions import action_events, iter_action_events  # noqa: E402
from simulator.model.city import City  # noqa: E402
from simulator.model.operators import city_watch  # noqa: E402
from simulator.model.timeline import build_timeline  # noqa: E402
from simulator.scenario.loader import load_scenario  # noqa: E402

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "strasbourg.yaml"


def best_of(repeats: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    """Best wall time (s) of `repeats` calls, and the last result."""
    best, out = float("inf"), None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def peak_mb(fn: Callable[[], Any]) -> float:
    """Peak traced Python memory (MB) while fn() runs."""
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 1e6


def city(days: float) -> City:
    return City.of(load_scenario(SCENARIO, [f"simulation.days={days:g}"]))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1 day, one run")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    repeats = 1 if args.quick else args.repeats
    days = [1.0] if args.quick else [1.0, 7.0]
    print(f"camsim actions benchmark — {SCENARIO.name}, best of {repeats}, "
          f"load avg {os.getloadavg()[0]:.2f}")  # fmt: skip

    one = city(1)
    s, _ = best_of(repeats, lambda: city_watch(one))
    print(f"\n(a) watch run (incidents.days={one.scenario.incidents.days:g}): {s:.3f} s")

    print("\n(b) action_events")
    for d in days:
        c = city(d)
        s, events = best_of(repeats, lambda c=c: action_events(c))
        kinds = Counter(e.kind for e in events)
        print(f"    {d:g} day(s): {len(events):,} events in {s:.2f} s = "
              f"{len(events) / s:,.0f} events/s")  # fmt: skip
        print("      " + ", ".join(f"{k} {n:,}" for k, n in sorted(kinds.items())))

    c = city(days[-1])
    whole = peak_mb(lambda: action_events(c))
    streamed = peak_mb(lambda: sum(1 for _ in iter_action_events(c)))
    print(f"\n(c) peak traced memory, {days[-1]:g} day(s): whole list {whole:,.0f} MB, "
          f"streamed an hour at a time {streamed:,.0f} MB")  # fmt: skip

    s, events = best_of(repeats, lambda: build_timeline(one, actions=True))
    print(f"\n(d) build_timeline(actions=True), 1 day: {len(events):,} events in {s:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
