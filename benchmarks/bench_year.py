"""Year-aware sizing benchmark: a whole year of Strasbourg (450 cameras), against the
straightforward full-resolution run of the year. Prints tables; `--json FILE` also writes them.

    python benchmarks/bench_year.py              # about 3 minutes on 2 noisy cores
    python benchmarks/bench_year.py --days 2     # a shorter full-resolution sample

numpy/BLAS on one thread. Sections: (a) `size_year` (the year at 60 s + the peak day at 1 s),
wall time against the 60 s target; (b) the straightforward run of the year, `simulate` at the
scenario's 1 s over all 365 days, cannot be run here (its per-tick arrays: about 6 GB), so
it is measured on `--days` consecutive days at 1 s and extrapolated linearly (the model's cost
is linear in days, README "Performance"); (c) accuracy of the 60 s resolution: the same days
at 60 s against 1 s; (d) one day of 450 cameras at 1 s (the ≤ 3 s target, unchanged).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from bench_sizing import best_of, finish, load, table, verdict  # noqa: E402

from simulator.model.results import Results  # noqa: E402
from simulator.model.sizing import simulate  # noqa: E402
from simulator.model.year import YEAR_DAYS, size_year, year_scenario  # noqa: E402
from simulator.scenario import load_scenario  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "strasbourg.yaml"
TARGET_YEAR_S = 60.0
TARGET_DAY_S = 3.0


def figures(r: Results) -> dict[str, float]:
    """The figures the coarse resolution must get right, per simulated day where additive."""
    core = next(lk for lk in r.links if lk.kind == "core")
    busiest = max((lk for lk in r.links if lk.kind == "uplink"), key=lambda lk: lk.p99_util)
    return {
        "daily_write_tb": r.sizing.daily_write_tb,
        "core_p99_util": core.p99_util,
        "busiest_uplink_p99_util": busiest.p99_util,
        "ingest_p99_mbps_max": max(s.ingest_p99_mbps for s in r.servers),
        "write_iops_p99_max": max(s.write_iops_p99 for s in r.servers),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=3, help="full-resolution sample for (b) [3]")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args(argv)
    scenario = load_scenario(SCENARIO)
    load0 = os.getloadavg()
    print(f"camsim year benchmark — numpy/BLAS on 1 thread, load avg {load0[0]:.2f}")
    out: dict[str, Any] = {"load_avg_at_start": load0}

    # (a)
    t, c = time.perf_counter(), time.process_time()
    year = size_year(scenario)
    year_s, year_cpu = time.perf_counter() - t, time.process_time() - c
    y = year.year
    first, last = y.storage_window
    out["year_aware"] = {"wall_s": year_s, "cpu_s": year_cpu, "load_avg": os.getloadavg(),
                         "storage_tb": year.sizing.storage_needed_tb,
                         "window": [first.isoformat(), last.isoformat()],
                         "peak_day": y.date(y.peak_day).isoformat()}  # fmt: skip
    print(f"\n(a) year-aware sizing, 450 cameras × {YEAR_DAYS} days at "
          f"{y.coarse_resolution_s} s + the peak day at {y.resolution_s} s; "
          f"load avg {load()}")  # fmt: skip
    print(table(
        ["run", "wall s", "CPU s", "target s", "", "storage TB", "window", "peak day"],
        [["size_year", f"{year_s:.1f}", f"{year_cpu:.1f}", f"{TARGET_YEAR_S:g}",
          verdict(year_s <= TARGET_YEAR_S),
          f"{year.sizing.storage_needed_tb:.1f}", f"{first:%Y-%m-%d} → {last:%Y-%m-%d}",
          f"{y.date(y.peak_day):%Y-%m-%d}"]],
    ))  # fmt: skip

    # (b) and (c): the same days at full and at coarse resolution
    days = args.days
    sample = scenario.model_copy(
        update={"simulation": scenario.simulation.model_copy(update={"days": float(days)})}
    )
    coarse_sample = year_scenario(sample).model_copy(
        update={"simulation": year_scenario(sample).simulation.model_copy(
            update={"days": float(days), "frame_window_s": 60.0})}
    )  # fmt: skip
    t = time.perf_counter()
    full = simulate(sample)
    full_s = time.perf_counter() - t
    t = time.perf_counter()
    coarse = simulate(coarse_sample)
    coarse_s = time.perf_counter() - t
    straightforward_s = full_s / days * YEAR_DAYS
    out["straightforward"] = {"sample_days": days, "sample_wall_s": full_s,
                              "extrapolated_year_s": straightforward_s,
                              "ratio": straightforward_s / year_s}  # fmt: skip
    print(f"\n(b) the straightforward year: `simulate` at 1 s, measured on {days} days, "
          f"extrapolated × {YEAR_DAYS}/{days}")  # fmt: skip
    print(table(
        ["run", "wall s", "per day s", "year s (extrapolated)", "vs size_year"],
        [[f"simulate, {days} d at 1 s", f"{full_s:.1f}", f"{full_s / days:.2f}",
          f"{straightforward_s:,.0f}", f"{straightforward_s / year_s:.1f}x slower"],
         [f"simulate, {days} d at 60 s", f"{coarse_s:.1f}", f"{coarse_s / days:.2f}", "", ""]],
    ))  # fmt: skip
    a, b = figures(full), figures(coarse)
    out["accuracy"] = {"full": a, "coarse": b}
    print(f"\n(c) the same {days} days (same seed) at 1 s and at 60 s")
    print(table(
        ["figure", "1 s", "60 s", "60 s / 1 s - 1"],
        [[k, f"{a[k]:.4g}", f"{b[k]:.4g}", f"{b[k] / a[k] - 1:+.2%}"] for k in a],
    ))  # fmt: skip

    # (d)
    one = scenario.model_copy(
        update={"simulation": scenario.simulation.model_copy(update={"days": 1.0})}
    )
    best, runs, cpus = best_of(2, lambda: simulate(one))
    out["day_450"] = {"best_s": best, "runs_s": runs, "cpu_s": cpus}
    print(f"\n(d) one day of 450 cameras at 1 s (`simulate`), best of 2; load avg {load()}")
    print(table(
        ["run", "wall s (best)", "runs s", "CPU runs s", "target s", ""],
        [["simulate", f"{best:.2f}", " ".join(f"{r:.2f}" for r in runs),
          " ".join(f"{c:.2f}" for c in cpus), f"{TARGET_DAY_S:g}", verdict(best <= TARGET_DAY_S)]],
    ))  # fmt: skip

    return finish(out, args.json, f"at start {load0[0]:.2f}; one run each unless stated")


if __name__ == "__main__":
    sys.exit(main())
