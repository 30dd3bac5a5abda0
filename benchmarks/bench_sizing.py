"""Sizing-model benchmark: wall time, memory and growth of `simulate`, against a per-packet
SimPy baseline. Prints tables; `--json FILE` also writes the figures. Not a test.

    python benchmarks/bench_sizing.py                # everything (~5 min on 2 noisy cores)
    python benchmarks/bench_sizing.py --quick        # a fast smoke run of every section

Every measurement runs numpy/BLAS on one thread (set before numpy is imported). Sections:
(a) the reference city (450 cameras) × 24 h, best of N; (b) the per-packet SimPy model of the
same city over a short window, fed the same frames as the vectorised window model: speed and
accuracy; (c) a 10,000-camera city × 24 h in a subprocess: wall time and peak RSS; (d) growth
with cameras and with simulated days, each point in a fresh subprocess.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import copy  # noqa: E402
import cProfile  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import pstats  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import yaml  # noqa: E402

from simulator.model.perframe import simulate_perframe, steady_city  # noqa: E402
from simulator.model.sizing import simulate  # noqa: E402
from simulator.model.window import (  # noqa: E402
    WindowResult,
    simulate_window,
    window_frames,  # noqa: E402
)
from simulator.scenario import Scenario, validate  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "strasbourg.yaml"
DAY_S = 86400
# issue 10 "Performance": a day of 450 cameras ≤ 3 s; 10,000 cameras × 24 h ≤ 66 s and 1.3 GB
TARGET_450_S = 3.0
TARGET_BIG_S = 66.0
TARGET_BIG_MB = 1331.0  # 1.3 GB


# ---------------------------------------------------------------------------- scenarios


def load_data(path: Path) -> dict[str, Any]:
    """The scenario file as a plain mapping."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def scaled(data: dict[str, Any], cameras: int, days: float | None = None) -> Scenario:
    """The city scaled to `cameras`: districts, camera groups, recorders and core copied
    round(cameras / city size) times (at least once), then group counts scaled to the exact
    total (largest remainder), recorder counts and core capacity scaled in proportion."""
    data = copy.deepcopy(data)
    base = sum(g["count"] for g in data["cameras"])
    copies = max(1, round(cameras / base))
    groups, districts = [], []
    for k in range(copies):
        tag = "" if copies == 1 else f"-{k + 1}"
        for g in data["cameras"]:
            groups.append({**g, "name": g["name"] + tag, "district": g["district"] + tag})
        for d in data["network"]["districts"]:
            districts.append({**d, "name": d["name"] + tag})
    want = np.array([g["count"] for g in groups], dtype=float) * cameras / (base * copies)
    counts = np.maximum(np.floor(want), 1).astype(int)
    rest = cameras - counts.sum()
    if rest > 0:  # largest remainders first
        for i in np.argsort(-(want - np.floor(want)))[:rest]:
            counts[i] += 1
    elif rest < 0:  # the minimum of one camera per group overshot: trim the largest groups
        for i in np.argsort(-counts)[:-rest]:
            counts[i] -= 1
    for g, n in zip(groups, counts, strict=True):
        g["count"] = int(n)
    data["cameras"] = [g for g in groups if g["count"] > 0]
    data["network"]["districts"] = districts
    factor = cameras / base
    core = data["network"]["core"]
    core["capacity_mbps"] = core["capacity_mbps"] * max(1.0, factor)
    core["buffer_kb"] = core.get("buffer_kb", 1024) * max(1.0, factor)
    for s in data["recording"]["servers"]:
        s.pop("districts", None)
        s["count"] = max(1, math.ceil(s.get("count", 1) * factor))
    if days is not None:
        data.setdefault("simulation", {})["days"] = days
    return validate(data, f"{SCENARIO.name} scaled to {cameras} cameras")


# ---------------------------------------------------------------------------- measurements


def best_of(repeats: int, fn: Any) -> tuple[float, list[float], list[float]]:
    """Best wall time, all wall times and all CPU times (s, this process) of calling fn()
    `repeats` times. On a shared machine the CPU time is the steadier figure."""
    times, cpus = [], []
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        fn()
        times.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
    return min(times), times, cpus


def load() -> str:
    """The 1-minute load average, for quoting beside a figure."""
    return f"{os.getloadavg()[0]:.2f}"


def full_model(data: dict[str, Any], repeats: int, profile: int) -> dict[str, Any]:
    """(a) The reference city through `simulate`, best of N, optionally profiled once."""
    scenario = validate(data, SCENARIO)
    cams = sum(g.count for g in scenario.cameras)
    load_before = os.getloadavg()
    best, times, cpus = best_of(repeats, lambda: simulate(scenario))
    out: dict[str, Any] = {
        "cameras": cams,
        "days": scenario.simulation.days,
        "best_s": best,
        "runs_s": times,
        "cpu_s": cpus,
        "best_cpu_s": min(cpus),
        "load_avg": [load_before, os.getloadavg()],
        "camera_seconds_per_s": cams * scenario.simulation.days * DAY_S / best,
        "target_s": TARGET_450_S,
    }
    if profile:
        prof = cProfile.Profile()
        t = time.perf_counter()
        prof.runcall(simulate, scenario)
        total = time.perf_counter() - t
        stats = pstats.Stats(prof, stream=io.StringIO())
        rows = []
        for (file, line, func), (_, _, tt, ct, _) in stats.stats.items():  # type: ignore[attr-defined]
            rows.append((tt, ct, f"{Path(file).name}:{line}({func})"))
        rows.sort(reverse=True)
        out["profile_total_s"] = total
        out["profile"] = [
            {"function": name, "self_s": tt, "cum_s": ct, "self_share": tt / total}
            for tt, ct, name in rows[:profile]
        ]
    return out


def link_figures(r: WindowResult) -> dict[str, dict[str, float]]:
    """Per link: offered MB, loss fraction, mean and p99 queueing delay (ms)."""
    out = {}
    for name, lk in r.links.items():
        w = lk.waits_s
        out[name] = {
            "offered_MB": lk.offered_bytes / 1e6,
            "loss": lk.lost_bytes / lk.offered_bytes if lk.offered_bytes else 0.0,
            "mean_ms": float(w.mean() * 1e3) if w.size else 0.0,
            "p99_ms": float(np.percentile(w, 99) * 1e3) if w.size else 0.0,
        }
    return out


def perframe(data: dict[str, Any], seconds: int, full_cs_per_s: float | None) -> dict[str, Any]:
    """(b) Per-packet SimPy model vs the vectorised window, same frames, whole city."""
    scenario = validate(data, SCENARIO)
    c = steady_city(scenario, seconds)
    cams = len(c.table)
    frames = window_frames(c.table, c.main_bps, c.sub_bps, 0.0, np.random.default_rng(1))
    t = time.perf_counter()
    pkt = simulate_perframe(c.table, frames, c.access, c.path, c.core)
    pkt_s = time.perf_counter() - t
    t = time.perf_counter()
    whole = simulate_perframe(c.table, frames, c.access, c.path, c.core, mtu=math.inf)
    whole_s = time.perf_counter() - t
    t = time.perf_counter()
    vec = simulate_window(
        c.table, c.main_bps, c.sub_bps, 0.0, c.access, c.path, c.core, np.random.default_rng(1)
    )
    vec_s = time.perf_counter() - t
    assert vec.frames == pkt.frames, "the two models were not fed the same frames"
    rate = cams * seconds / pkt_s
    whole_rate = cams * seconds / whole_s
    a, b, f = link_figures(vec), link_figures(pkt), link_figures(whole)
    e2e = {
        "vectorised_p99_ms": float(np.percentile(vec.end_to_end_s, 99) * 1e3),
        "perframe_p99_ms": float(np.percentile(pkt.end_to_end_s, 99) * 1e3),
        "vectorised_mean_ms": float(vec.end_to_end_s.mean() * 1e3),
        "perframe_mean_ms": float(pkt.end_to_end_s.mean() * 1e3),
    }
    return {
        "cameras": cams,
        "seconds": seconds,
        "frames": pkt.frames,
        "perframe_s": pkt_s,
        "vectorised_window_s": vec_s,
        "perframe_camera_seconds_per_s": rate,
        "perframe_hours_per_day": cams * DAY_S / rate / 3600,
        "speed_ratio_full_vs_perframe": (full_cs_per_s / rate) if full_cs_per_s else None,
        "frame_as_one_packet_s": whole_s,
        "frame_as_one_packet_camera_seconds_per_s": whole_rate,
        "frame_as_one_packet_hours_per_day": cams * DAY_S / whole_rate / 3600,
        "speed_ratio_full_vs_frame_as_one_packet": (full_cs_per_s / whole_rate)
        if full_cs_per_s
        else None,
        "links": {
            name: {"vectorised": a[name], "perframe": b[name], "frame_as_one_packet": f[name]}
            for name in a
        },
        "end_to_end": e2e,
    }


def child(cameras: int, days: float) -> dict[str, Any]:
    """Run in a subprocess: one `simulate` of the scaled city; wall time and own peak RSS."""
    scenario = scaled(load_data(SCENARIO), cameras, days)
    t, c = time.perf_counter(), time.process_time()
    simulate(scenario)
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    return {"cameras": cameras, "days": days, "wall_s": wall, "cpu_s": cpu, "peak_MB": peak_mb}


def in_subprocess(cameras: int, days: float) -> dict[str, Any]:
    """One fresh interpreter per point, so memory and caches do not carry over."""
    cmd = [sys.executable, __file__, "--child", str(cameras), str(days)]
    load_before = os.getloadavg()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["load_avg"] = [load_before, os.getloadavg()]
    # ru_maxrss of RUSAGE_CHILDREN is the largest child so far; callers run the biggest first.
    result["children_peak_MB"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return result


def fit_growth(xs: list[float], ys: list[float]) -> dict[str, float]:
    """Power-law exponent (log-log slope) and linear fit y = fixed + per_unit · x."""
    if len(xs) < 2:
        return {}
    slope = float(np.polyfit(np.log(xs), np.log(ys), 1)[0])
    per_unit, fixed = (float(v) for v in np.polyfit(xs, ys, 1))
    return {"exponent": slope, "per_unit_s": per_unit, "fixed_s": fixed}


# ---------------------------------------------------------------------------- printing


def table(headers: list[str], rows: list[list[str]]) -> str:
    """A plain text table, right-aligned but for the first column."""
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows, strict=True)]
    line = lambda r: "  ".join(  # noqa: E731
        (str(x).ljust(w) if i == 0 else str(x).rjust(w))
        for i, (x, w) in enumerate(zip(r, widths, strict=True))
    )
    return "\n".join(
        [line(headers), "-" * (sum(widths) + 2 * len(widths) - 2)] + [line(r) for r in rows]
    )


def finish(figures: dict[str, Any], json_path: Path | None, note: str) -> int:
    """The last lines of a benchmark: the load average at the end (also into `figures`), what
    the figures are worth, and the JSON file when asked for; the exit status."""
    figures["load_avg_at_end"] = os.getloadavg()
    print(f"\nload avg at end {os.getloadavg()[0]:.2f} (2 shared cores: figures are noisy; "
          f"{note})")  # fmt: skip
    if json_path:
        json_path.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {json_path}")
    return 0


def verdict(ok: bool) -> str:
    return "OK" if ok else "MISSED"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1 repeat, 2 s window, small growth runs")
    ap.add_argument("--repeats", type=int, default=3, help="best of N for (a) [3]")
    ap.add_argument("--window-s", type=int, default=10, help="per-packet window length (b) [10]")
    ap.add_argument("--big", type=int, default=10_000, help="cameras for (c); 0 skips [10000]")
    ap.add_argument("--growth-cameras", default="100,450,1000,3000", help="(d); '' skips")
    ap.add_argument("--growth-days", default="1,2,7", help="days at 450 cameras (d); '' skips")
    ap.add_argument("--profile", type=int, default=12, help="top N functions of (a); 0: off")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    ap.add_argument("--child", nargs=2, metavar=("CAMERAS", "DAYS"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.child:
        print(json.dumps(child(int(args.child[0]), float(args.child[1]))))
        return 0
    if args.quick:
        args.repeats, args.window_s = 1, 2
        args.big = min(args.big, 2000)
        args.growth_cameras, args.growth_days = "100,450", "1,2"

    data = load_data(SCENARIO)
    figures: dict[str, Any] = {
        "machine": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "cpus": os.cpu_count(),
            "load_avg_at_start": os.getloadavg(),
            "threads": 1,
        }
    }
    print(f"camsim sizing benchmark — numpy/BLAS on 1 thread, load avg {os.getloadavg()[0]:.2f}")

    # (a)
    a = full_model(data, args.repeats, args.profile)
    figures["full_model_450"] = a
    print(f"\n(a) full model, {a['cameras']} cameras × {a['days']:g} day, best of "
          f"{args.repeats}; load avg {a['load_avg'][0][0]:.2f} before, "
          f"{a['load_avg'][1][0]:.2f} after")  # fmt: skip
    print(table(
        ["model", "wall s (best)", "runs s", "CPU s (best)", "CPU runs s", "camera-s per s",
         "target s", ""],
        [["simulate", f"{a['best_s']:.2f}", " ".join(f"{t:.2f}" for t in a["runs_s"]),
          f"{a['best_cpu_s']:.2f}", " ".join(f"{t:.2f}" for t in a["cpu_s"]),
          f"{a['camera_seconds_per_s']:,.0f}", f"{TARGET_450_S:g}",
          verdict(a["best_s"] <= TARGET_450_S)]],
    ))  # fmt: skip
    if args.profile:
        total = a["profile_total_s"]
        print(f"\n    where the time goes (cProfile self time; one profiled run, {total:.2f} s)")
        print(table(
            ["function", "self s", "share", "cum s"],
            [[p["function"], f"{p['self_s']:.2f}", f"{p['self_share']:.0%}", f"{p['cum_s']:.2f}"]
             for p in a["profile"]],
        ))  # fmt: skip

    # (b)
    b = perframe(data, args.window_s, a["camera_seconds_per_s"])
    figures["perframe"] = b
    print(f"\n(b) per-packet SimPy model, {b['cameras']} cameras × {b['seconds']} s "
          f"({b['frames']:,} frames), fed the same frames as the vectorised window")  # fmt: skip
    print(table(
        ["model", "wall s", "camera-s per s", "h per simulated day", "vs full model"],
        [["per-packet SimPy", f"{b['perframe_s']:.2f}",
          f"{b['perframe_camera_seconds_per_s']:,.0f}", f"{b['perframe_hours_per_day']:.1f}",
          f"{b['speed_ratio_full_vs_perframe']:,.0f}x slower"],
         ["SimPy, 1 packet/frame", f"{b['frame_as_one_packet_s']:.2f}",
          f"{b['frame_as_one_packet_camera_seconds_per_s']:,.0f}",
          f"{b['frame_as_one_packet_hours_per_day']:.1f}",
          f"{b['speed_ratio_full_vs_frame_as_one_packet']:,.0f}x slower"],
         ["vectorised window", f"{b['vectorised_window_s']:.3f}",
          f"{b['cameras'] * b['seconds'] / b['vectorised_window_s']:,.0f}", "", ""]],
    ))  # fmt: skip
    rows = []
    for name, v in b["links"].items():
        x, y = v["vectorised"], v["perframe"]
        rows.append([name, f"{x['mean_ms']:.4f}", f"{y['mean_ms']:.4f}", f"{x['p99_ms']:.4f}",
                     f"{y['p99_ms']:.4f}", f"{x['loss']:.2e}", f"{y['loss']:.2e}"])  # fmt: skip
    e = b["end_to_end"]
    rows.append(["end-to-end", f"{e['vectorised_mean_ms']:.4f}", f"{e['perframe_mean_ms']:.4f}",
                 f"{e['vectorised_p99_ms']:.4f}", f"{e['perframe_p99_ms']:.4f}", "",
                 ""])  # fmt: skip
    print(
        "\n    accuracy: queueing delay (ms) and loss fraction per link, vectorised vs per-packet"
    )
    print(table(["link", "mean vec", "mean pkt", "p99 vec", "p99 pkt", "loss vec", "loss pkt"],
                rows))  # fmt: skip

    # (c)
    if args.big:
        c = in_subprocess(args.big, 1)
        figures["big"] = c
        print(f"\n(c) {args.big:,} cameras × 1 day (subprocess, one run); load avg "
              f"{c['load_avg'][0][0]:.2f} before, {c['load_avg'][1][0]:.2f} after")  # fmt: skip
        print(table(
            ["cameras", "wall s", "CPU s", "target s", "", "peak RSS MB", "target MB", ""],
            [[f"{args.big:,}", f"{c['wall_s']:.1f}", f"{c['cpu_s']:.1f}", f"{TARGET_BIG_S:g}",
              verdict(c["wall_s"] <= TARGET_BIG_S), f"{c['children_peak_MB']:,.0f}",
              f"{TARGET_BIG_MB:,.0f}", verdict(c["children_peak_MB"] <= TARGET_BIG_MB)]],
        ))  # fmt: skip

    # (d)
    growth: dict[str, Any] = {}
    cams = [int(x) for x in args.growth_cameras.split(",") if x]
    days = [float(x) for x in args.growth_days.split(",") if x]
    if cams:
        pts = [in_subprocess(n, 1) for n in cams]
        growth["cameras"] = {"points": pts, "fit": fit_growth(cams, [p["wall_s"] for p in pts])}
    if days:
        pts = [in_subprocess(450, d) for d in days]
        growth["days"] = {"points": pts, "fit": fit_growth(days, [p["wall_s"] for p in pts])}
    if growth:
        figures["growth"] = growth
        print("\n(d) growth (1 run each, fresh subprocess)")
        rows = []
        for axis in ("cameras", "days"):
            for p in growth.get(axis, {}).get("points", []):
                rows.append([f"{p['cameras']:,}", f"{p['days']:g}", f"{p['wall_s']:.2f}",
                             f"{p['cpu_s']:.2f}",
                             f"{p['wall_s'] / (p['cameras'] * p['days']) * 1e3:.2f}",
                             f"{p['peak_MB']:,.0f}", f"{p['load_avg'][0][0]:.2f}"])  # fmt: skip
        print(table(["cameras", "days", "wall s", "CPU s", "ms per camera-day", "peak MB",
                     "load avg"], rows))  # fmt: skip
        for axis, unit in (("cameras", "camera"), ("days", "day")):
            f = growth.get(axis, {}).get("fit")
            if f:
                scale, u = (1e3, "ms") if axis == "cameras" else (1.0, "s")
                slope = f["per_unit_s"] * scale
                print(f"    vs {axis}: time ∝ {axis}^{f['exponent']:.2f}; linear fit "
                      f"{f['fixed_s']:.2f} s + {slope:.2f} {u} per {unit}")  # fmt: skip

    return finish(figures, args.json, "(a) is best of N")


if __name__ == "__main__":
    sys.exit(main())
