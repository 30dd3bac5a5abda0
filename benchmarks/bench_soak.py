"""Soak benchmark of `camsim lab`: N cameras with the scenario's operators' load for an hour.

Runs `camsim lab SCENARIO --target rest` against the stub VMS (benchmarks/stub_vms.py, in its
own process; it records nothing, so the verdict shows every camera as a gap), with one
reader per camera on the generator's streams, and every minute samples the RSS of each
harness process: camsim serve, camsim lab, camsim loadtest with its Locust children. Prints
the RSS curve, each process's growth after warm-up (goal < 1 %), whether every camera has a
ledger `sent` row for every 10 s interval of the run, the generator's lateness (from the
ledger's health table) and whether a verdict was written.

Full run:   python benchmarks/bench_soak.py --minutes 60
Quick run:  python benchmarks/bench_soak.py --minutes 3 --cameras 20 --warmup-minutes 1
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from lab_under_test import LabUnderTest, ledger_checks

NAMES = ("camsim serve", "camsim lab", "camsim loadtest")


def growth(curve: list[float], warmup: int) -> float:
    """Relative growth of the RSS from the end of the warm-up to the end of the run: the mean
    of the last three samples against the mean of the three after warm-up."""
    after = curve[warmup:]
    if len(after) < 2:
        return float("nan")
    k = min(3, len(after) // 2)
    first, last = sum(after[:k]) / k, sum(after[-k:]) / k
    return (last - first) / first


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--minutes", type=float, default=60.0, help="the lab's --duration")
    ap.add_argument("--cameras", type=int, default=450)
    ap.add_argument("--scenario", default="scenarios/strasbourg.yaml")
    ap.add_argument("--warmup-minutes", type=float, default=10.0,
                    help="samples before this are the warm-up")  # fmt: skip
    ap.add_argument("--every", type=float, default=60.0, help="seconds between RSS samples")
    ap.add_argument("--out", type=Path, default=Path("out/bench-soak"))
    args = ap.parse_args()

    run = LabUnderTest.start(args.scenario, args.cameras, args.minutes * 60, args.out)
    curve: list[tuple[float, float, dict[str, float]]] = []  # (minute, load avg, rss by name)
    try:
        started = run.wait_started()
        print(f"# soak: {args.cameras} cameras of {args.scenario} with its operators' load, "
              f"{args.minutes:g} min, against the stub VMS; {os.cpu_count()} CPUs; "
              f"load average at start {os.getloadavg()[0]:.1f}", flush=True)  # fmt: skip
        print(f"{'minute':>6} {'load avg':>8} " + " ".join(f"{n + ' MB':>20}" for n in NAMES))
        while run.lab.poll() is None and time.time() < started + args.minutes * 60:
            rss = {n: u.rss_mb for n, u in run.usage().items()}
            row = ((time.time() - started) / 60, os.getloadavg()[0], rss)
            curve.append(row)
            cells = " ".join(f"{rss.get(n, float('nan')):>20.1f}" for n in NAMES)
            print(f"{row[0]:>6.1f} {row[1]:>8.1f} {cells}", flush=True)
            time.sleep(args.every)
        code = run.wait(args.minutes * 60 + 900)
    finally:
        run.stop()

    warmup = sum(1 for m, _, _ in curve if m < args.warmup_minutes)
    print(f"# RSS growth from minute {args.warmup_minutes:g} to the end (goal < 1 %):")
    for n in NAMES:
        series = [r[2][n] for r in curve if n in r[2]]
        g = growth(series, warmup) if len(series) == len(curve) else growth(series, 0)
        print(f"  {n}: {series[warmup] if len(series) > warmup else float('nan'):.1f} -> "
              f"{series[-1] if series else float('nan'):.1f} MB, {100 * g:+.2f} %")  # fmt: skip
    checks = ledger_checks(args.out)
    verdict = args.out / "verdict.json"
    print(f"ledger: {checks['cameras']} cameras, {checks['intervals_min']}-"
          f"{checks['intervals_max']} intervals each over {checks['window_s']:.0f} s, longest "
          f"{checks['longest_interval_s']:.1f} s, cameras with a missing interval: "
          f"{checks['cameras_with_missing_intervals']}")  # fmt: skip
    print(
        f"ledger size: {checks['bytes'] / 2**20:.1f} MB = "
        f"{checks['bytes_per_camera_day'] / 1e6:.2f} MB per camera-day (goal <= 1)"
    )
    print(f"generator lateness p99 per interval: median "
          f"{1000 * checks['lateness_p99_median_s']:g} ms, worst "
          f"{1000 * checks['lateness_p99_max_s']:g} ms; frames it skipped late: "
          f"{checks['frames_late']}")  # fmt: skip
    if verdict.exists():
        v = json.loads(verdict.read_text())
        print(f"verdict: written ({'PASS' if v.get('passed') else 'FAIL'}, lab exit {code}; "
              f"against the stub every camera is a gap)")  # fmt: skip
    else:
        print(f"verdict: NOT written (lab exit {code}; see {args.out}/lab.out)")
    print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
