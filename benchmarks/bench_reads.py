"""Read-load and resilience benchmark: what they add to a run of the reference city, and the
per-tick aggregation against a straightforward loop in the same process. Not a test.

    python benchmarks/bench_reads.py            # best of 3
    python benchmarks/bench_reads.py --repeats 5

Prints (a) the wall time of `recorder_reads` (the operators' reads of a 450-camera day) and of
`RecorderFailures` (disk histories and failover coverage, with disks and N+1 switched on)
against the whole `simulate`; (b) `per_tick` against a per-span loop over the ticks each span
touches.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from simulator.model import sizing  # noqa: E402
from simulator.model.city import City  # noqa: E402
from simulator.model.reads import ReadSpans, per_tick  # noqa: E402
from simulator.model.resilience import RecorderFailures  # noqa: E402
from simulator.model.states import States  # noqa: E402
from simulator.model.world import world_events  # noqa: E402
from simulator.scenario import load_scenario  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "strasbourg.yaml"


def best_of(repeats: int, fn) -> float:  # noqa: ANN001
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def naive_per_tick(spans: ReadSpans, servers: int, tick: float, ticks: int) -> np.ndarray:
    """The straightforward way: each span adds its overlap to every tick it touches."""
    out = np.zeros((servers, ticks))
    for s, a, b, r in zip(spans.server, spans.start_s, spans.end_s, spans.mbps, strict=True):
        k0, k1 = max(0, int(a // tick)), min(ticks, int(np.ceil(b / tick)))
        if k1 <= k0:
            continue
        edges = np.arange(k0, k1 + 1) * tick
        out[s, k0:k1] += r * (np.minimum(edges[1:], b) - np.maximum(edges[:-1], a)) / tick
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    print(f"load avg at start {os.getloadavg()[0]:.2f} (2 shared cores: figures are noisy)")

    scenario = load_scenario(
        SCENARIO,
        ["recording.servers.0.disks.mtbf_h=1000000", "recording.failover.standby=1"],
    )
    city = City.of(scenario)
    spent = {"recorder_reads": [], "RecorderFailures": []}
    real_reads, real_failures = sizing.recorder_reads, sizing.RecorderFailures

    def timed_reads(*a, **k):  # noqa: ANN002, ANN003, ANN202
        t = time.perf_counter()
        out = real_reads(*a, **k)
        spent["recorder_reads"].append(time.perf_counter() - t)
        return out

    def timed_failures(*a, **k):  # noqa: ANN002, ANN003, ANN202
        t = time.perf_counter()
        out = real_failures(*a, **k)
        spent["RecorderFailures"].append(time.perf_counter() - t)
        return out

    sizing.recorder_reads, sizing.RecorderFailures = timed_reads, timed_failures
    try:
        whole = best_of(args.repeats, lambda: sizing.simulate(city))
    finally:
        sizing.recorder_reads, sizing.RecorderFailures = real_reads, real_failures
    print(f"\n(a) {scenario.camera_count} cameras × {scenario.simulation.days:g} day, "
          f"best of {args.repeats}")  # fmt: skip
    print(f"{'simulate':24} {whole:7.3f} s")
    for name, times in spent.items():
        print(f"  {name:22} {min(times):7.3f} s  ({min(times) / whole:.1%} of the run)")

    tick, ticks = 1, 86400
    states = States(city, world_events(city), tick, ticks)
    failures_s = best_of(args.repeats, lambda: RecorderFailures(city, states))
    print(f"  {'RecorderFailures alone':22} {failures_s:7.3f} s")

    rng = np.random.default_rng(1)
    n = 100_000  # about a day of Strasbourg's tour steps
    start = rng.uniform(0, ticks * tick, n)
    spans = ReadSpans(rng.integers(0, 5, n), start, start + rng.exponential(10, n),
                      rng.uniform(1, 6, n), np.zeros(n, bool))  # fmt: skip
    fast = best_of(args.repeats, lambda: per_tick(spans, 5, tick, ticks))
    slow = best_of(1, lambda: naive_per_tick(spans, 5, tick, ticks))
    same = np.allclose(per_tick(spans, 5, tick, ticks), naive_per_tick(spans, 5, tick, ticks))
    print(f"\n(b) per_tick, {n:,} spans over {ticks:,} ticks × 5 servers")
    print(f"per_tick           {fast:7.3f} s")
    print(f"per-span loop      {slow:7.3f} s  ({slow / fast:,.0f}× slower; same result: {same})")
    print(f"\nload avg at end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
