"""Sweep benchmark: 20 variants × 10 replications × 7 days of Strasbourg, on local processes and
on a Dask `LocalCluster`, against the same runs one after another in this process.

    python benchmarks/bench_sweep.py                 # about 8 minutes on 2 noisy cores
    python benchmarks/bench_sweep.py --no-dask       # local processes only
    pip install '.[dask]'                            # for the Dask column

The scenario: scenarios/strasbourg.yaml (450 cameras, its operators and incidents) over 7 days
at 60 s resolution (the year-aware sizing's coarse resolution; bench_year.py (c) measures it
against 1 s) with a 10 s frame-level window, sweeping the centre district's uplink from 600
to 1,550 Mbps in 20 steps (the centre's p99 is ~860 Mbps: below that, congestion losses).
Every variant runs the same 10 replication seeds from the scenario's seed tree. numpy/BLAS
on one thread per process. The straightforward baseline (serial, in this process) is timed on
`--serial` runs and extrapolated to the whole sweep, and says so.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from concurrent.futures import Executor, ProcessPoolExecutor  # noqa: E402
from multiprocessing import get_context  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
from bench_sizing import finish, table, verdict  # noqa: E402

from simulator.model.replications import replicate  # noqa: E402
from simulator.model.results import Results  # noqa: E402
from simulator.model.sizing import simulate  # noqa: E402
from simulator.report.sweep import sweep_text  # noqa: E402
from simulator.scenario import Scenario, load_scenario  # noqa: E402
from simulator.sweep import run_replicated  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "strasbourg.yaml"
FIELD = "network.districts.0.uplink.capacity_mbps"
TARGET_S = 300.0


def variants(count: int, days: float) -> tuple[list[str], list[Scenario]]:
    """The swept values and their scenarios."""
    values = [f"{v:g}" for v in np.linspace(600, 1550, count)]
    common = ("simulation.resolution_s=60", f"simulation.days={days:g}",
              "simulation.frame_window_s=10")  # fmt: skip
    return values, [load_scenario(SCENARIO, (*common, f"{FIELD}={v}")) for v in values]


def timed(executor: Executor, scenarios: list[Scenario], reps: int) -> tuple[float, list[Results]]:
    t = time.perf_counter()
    results = run_replicated(scenarios, reps, executor)
    return time.perf_counter() - t, results


def cpu_s(who: int = resource.RUSAGE_SELF) -> float:
    """User + system CPU seconds of this process (or of its reaped children)."""
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def figures(results: list[Results]) -> list[dict[str, float]]:
    """Every variant's interval bounds, for checking two executors agree."""
    return [
        {k: (iv.mean, iv.low, iv.high) for k, iv in r.replications.figures.items()}  # type: ignore[union-attr]
        for r in results
    ]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variants", type=int, default=20)
    ap.add_argument("--replications", type=int, default=10)
    ap.add_argument("--days", type=float, default=7.0)
    ap.add_argument("--workers", type=int, default=2, help="processes (and Dask workers) [2]")
    ap.add_argument("--serial", type=int, default=4, help="runs timed serially [4]")
    ap.add_argument("--no-dask", action="store_true")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    values, scenarios = variants(args.variants, args.days)
    runs = args.variants * args.replications
    load0 = os.getloadavg()
    print(f"camsim sweep benchmark — {args.variants} variants × {args.replications} "
          f"replications × {args.days:g} days of {SCENARIO.name} at 60 s ({runs} runs), "
          f"{args.workers} workers, load avg {load0[0]:.2f}")  # fmt: skip
    out: dict[str, Any] = {"runs": runs, "load_avg_at_start": load0}

    serial = replicate(scenarios[0], args.serial)
    t, c = time.perf_counter(), cpu_s()
    for s in serial:
        simulate(s)
    per_run = (time.perf_counter() - t) / len(serial)
    cpu_run = (cpu_s() - c) / len(serial)
    out.update(serial_per_run_s=per_run, serial_cpu_per_run_s=cpu_run)
    idle = lambda cpu: f"{cpu / args.workers:.0f}"  # noqa: E731 — wall on idle cores
    rows = [["serial, this process (extrapolated)", f"{per_run * runs:.0f}", f"{1 / per_run:.2f}",
             f"{cpu_run * runs:.0f}", f"{cpu_run * runs:.0f}", "", "",
             f"{args.serial} runs timed"]]  # fmt: skip

    c = cpu_s(resource.RUSAGE_CHILDREN)
    # spawned, as `camsim sweep`'s local processes are (simulator/cli/runs.py)
    with ProcessPoolExecutor(max_workers=args.workers, mp_context=get_context("spawn")) as pool:
        local_s, local = timed(pool, scenarios, args.replications)
    local_cpu = cpu_s(resource.RUSAGE_CHILDREN) - c  # the workers, reaped at shutdown
    out.update(local_s=local_s, local_cpu_s=local_cpu)
    rows.append([f"local processes ({args.workers})", f"{local_s:.0f}", f"{runs / local_s:.2f}",
                 f"{local_cpu:.0f}", idle(local_cpu), f"{TARGET_S:g}",
                 verdict(local_s <= TARGET_S),
                 f"{per_run * runs / local_s:.1f}x serial"])  # fmt: skip
    if not args.no_dask:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            missing = "not installed: pip install '.[dask]'"
            rows.append(["Dask LocalCluster", "-", "-", "-", "-", "", "", missing])
        else:
            with (
                LocalCluster(
                    n_workers=args.workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                ) as cluster,  # fmt: skip
                Client(cluster) as client,
            ):
                c = sum(client.run(cpu_s).values())
                dask_s, dask = timed(client.get_executor(), scenarios, args.replications)
                dask_cpu = sum(client.run(cpu_s).values()) - c
            same = figures(dask) == figures(local)
            out.update(dask_s=dask_s, dask_cpu_s=dask_cpu, dask_equals_local=same)
            rows.append([f"Dask LocalCluster ({args.workers} workers)", f"{dask_s:.0f}",
                         f"{runs / dask_s:.2f}", f"{dask_cpu:.0f}", idle(dask_cpu),
                         f"{TARGET_S:g}", verdict(dask_s <= TARGET_S),
                         f"{per_run * runs / dask_s:.1f}x serial; same figures as local: "
                         f"{'yes' if same else 'NO'}"])  # fmt: skip
    print(table(["executor", "wall s", "runs/s", "CPU s", "CPU s / workers", "target s", "",
                 "note"], rows))  # fmt: skip
    print("    CPU s / workers: the wall time the same work would take on idle cores")
    print()
    print(sweep_text([FIELD], [(v,) for v in values], local), end="")
    return finish(out, args.json, f"at start {load0[0]:.2f}; one sweep each")


if __name__ == "__main__":
    sys.exit(main())
