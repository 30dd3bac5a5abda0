"""The soak's reports (benchmarks/bench_soak.py): every `--report-every` seconds what the soak
looks like now (RSS, frames due and sent, serve's stalls and late seconds, the viewers' gaps
and whose they were, the hostile requests, what the kernel still flushes), and at the end the
same as tables with the RSS growth, the viewers' worst gaps, the hostile requests, the
tracebacks in the run's logs, the ledger's checks and the verdict.
"""

from __future__ import annotations

import argparse
import collections
import json
import multiprocessing as mp
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import hostile
import soak_gaps
from lab_under_test import ledger_checks
from trickle import read_journal

from simulator.lab import processes

GAP_GOAL_S = 0.2  # --gap-goal-ms, for the reports
NAMES = ("camsim serve", "camsim lab", "camsim loadtest")
FRAMES = ("frames_due", "frames_sent", "late_skips", "fault_drops", "target_drops",
          "keyframe_wait_skips")  # fmt: skip


def ends(curve: list[float], warmup: int) -> tuple[float, float]:
    """The RSS at the end of the warm-up and at the end of the run, each the mean of three
    samples (the three after warm-up, the last three); nan if too few."""
    after = curve[warmup:]
    if len(after) < 2:
        return float("nan"), float("nan")
    k = min(3, len(after) // 2)
    return sum(after[:k]) / k, sum(after[-k:]) / k


def counters(api: str) -> dict[tuple[str, str], dict[str, int]]:
    """Each stream's frame counters now (GET /api/cameras)."""
    with urllib.request.urlopen(api.rstrip("/") + "/api/cameras", timeout=60) as r:
        cams = json.loads(r.read())
    return {(c["id"], n): {k: int(st.get(k, 0)) for k in FRAMES}
            for c in cams for n, st in c["streams"].items()}  # fmt: skip


def frames(now: dict, base: dict, slow_cameras: set[str]) -> dict[str, int]:
    """Frame counters summed over every stream since `base`; target drops on the cameras a
    hostile slow reader took apart (`target_drops_slow`)."""
    out = dict.fromkeys(FRAMES, 0)
    out["target_drops_slow"] = 0
    for key, c in now.items():
        b = base.get(key, {})
        for k in FRAMES:
            out[k] += c[k] - b.get(k, 0)
        if key[0] in slow_cameras:
            out["target_drops_slow"] += c["target_drops"] - b.get("target_drops", 0)
    return out


def flushing(port: int) -> tuple[int, int] | None:
    """Connections on `port` the server has ended whose queue the kernel still holds
    (FIN-WAIT-1): how many and their unsent bytes; None without `ss`."""
    try:
        out = subprocess.run(["ss", "-tnH", "state", "fin-wait-1", f"( sport = :{port} )"],
                             capture_output=True, text=True, timeout=20).stdout  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    rows = [r.split() for r in out.splitlines() if r.strip()]
    rows = [r[1:] if not r[0].isdigit() else r for r in rows]  # a State column or not
    return len(rows), sum(int(r[1]) for r in rows if len(r) > 1 and r[1].isdigit())


def tracebacks(out: Path, since: float, keep: int = 5) -> dict[str, tuple[int, list[str]]]:
    """Per log file in OUT written since `since`: how many tracebacks, and the exception
    lines of the first `keep`."""
    found: dict[str, tuple[int, list[str]]] = {}
    for path in sorted(out.rglob("*")):
        if (not path.is_file() or ".sqlite" in path.name or path.suffix in (".json", ".tmp")
                or path.stat().st_mtime < since):  # fmt: skip
            continue
        n, lines, inside = 0, [], False
        with open(path, "rb") as f:
            for raw in f:
                if b"Traceback (most recent call last)" in raw:
                    n, inside = n + 1, True
                elif inside and raw[:1] not in (b" ", b"\t"):
                    inside = False
                    if len(lines) < keep:
                        lines.append(raw.decode(errors="replace").strip()[:160])
        if n:
            found[str(path.relative_to(out))] = (n, lines)
    return found


def worst_gaps(viewers: dict, a: float, b: float, offset_s: float) -> tuple[float, str, str]:
    """The viewers' worst gap between two frames in minutes [a, b) of the window: seconds,
    which camera, the timeline events around it ("" when none)."""
    best = (0.0, "", "")
    for v in viewers.get("viewers", []):
        for m, (gap, _, events, *_) in v["by_minute"].items():
            minute = int(m) + offset_s / 60
            if a <= minute < b and gap > best[0]:
                best = (gap, v["camera"], " ".join(events))
    return best


def loads(curve: list) -> str:
    """The load average's range over the samples, e.g. "0.9 - 2.4"."""
    xs = [x for _, x, _ in curve]
    return f"{min(xs):.1f} - {max(xs):.1f}" if xs else "?"


def answers(counts: dict[str, int]) -> str:
    """`{"401": 30, "400": 2}` as "401 ×30, 400 ×2", most frequent first."""
    return ", ".join(f"{k} ×{n}" for k, n in sorted(counts.items(), key=lambda x: -x[1]))


def table(rows: list[list[str]], head: list[str], left: tuple[int, ...] = (0,)) -> str:
    """Rows as a plain-text table, columns right-aligned but those in `left`."""
    w = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    fmt = lambda r: "  ".join(  # noqa: E731
        (str(c).ljust(w[i]) if i in left else str(c).rjust(w[i])) for i, c in enumerate(r)
    ).rstrip()
    return "\n".join([fmt(head), "  ".join("-" * x for x in w), *map(fmt, rows)])


def report(*args: object) -> list[str]:
    """`_report`, whatever goes wrong in it printed: the soak goes on."""
    try:
        return _report(*args)  # type: ignore[arg-type]
    except Exception as exc:  # noqa: BLE001 - a figure missing, not an hour lost
        print(f"   report failed: {type(exc).__name__}: {exc}", flush=True)
        return [f"{args[0]:.0f}", *["?"] * 15]


def _report(minute: float, since: float, rss: dict[str, float], api: str, base: dict,
           status: dict[str, Path], started: float, rtsp_port: int,
           side: list[mp.Process]) -> list[str]:  # fmt: skip
    """Print what the soak looks like now; the row of the summary's table."""
    trickle = hostile.read_status(status["trickle"])
    viewers = hostile.read_status(status["viewers"])
    try:
        f = frames(counters(api), base, set(trickle.get("slow_reader_cameras", {})))
    except (OSError, ValueError) as exc:
        f = {}
        print(f"   frames: GET /api/cameras failed: {exc}")
    offset = viewers.get("t0", started) - started
    gap, cam, events = worst_gaps(viewers, since, minute + 1, offset)
    fl = flushing(rtsp_port)
    load = os.getloadavg()[0]
    print(f"-- minute {minute:.1f}, load average {load:.1f}")
    print("   RSS MB: " + ", ".join(f"{n} {rss.get(n, float('nan')):.1f}" for n in NAMES))
    due = f.get("frames_due", 0)
    if f:
        print(f"   frames since the window began: due {due:,}, sent {f['frames_sent']:,} "
              f"({100 * f['frames_sent'] / max(1, due):.2f} %), late skips "
              f"{f['late_skips']:,}, fault drops {f['fault_drops']:,}, target drops "
              f"{f['target_drops']:,} ({f['target_drops_slow']:,} on the slow readers' "
              f"cameras), keyframe waits {f['keyframe_wait_skips']:,}")  # fmt: skip
    reconnects = sum(v["reconnects"] for v in viewers.get("viewers", []))
    logged = soak_gaps.serve_stalls(status["trickle"].parent / "serve.log", started + 60 * since)
    stalls = soak_gaps.stalls_only(logged)
    late = [x for x in logged if x["kind"] == "late"]
    by = collections.Counter(x["cause"] for x in stalls)
    by_late = collections.Counter(x["cause"] for x in late)
    print(f"   serve's loop stalls over 100 ms since minute {since:.0f}: {len(stalls)} "
          f"({', '.join(f'{c} {n}' for c, n in by.most_common()) or 'none'}; worst "
          f"{1000 * max((x['lag'] for x in stalls), default=0):.0f} ms); seconds with a frame "
          f"sent over 100 ms late: {len(late)} "
          f"({', '.join(f'{c} {n}' for c, n in by_late.most_common()) or 'none'})")  # fmt: skip
    over = [g for g in soak_gaps.gaps(viewers, GAP_GOAL_S) if g["start"] >= started + 60 * since]
    owners = collections.Counter(
        soak_gaps.cause(g, logged, viewers.get("own_stalls", [])) for g in over
    )
    print(
        f"   viewers' gaps over {1000 * GAP_GOAL_S:.0f} ms since minute {since:.0f}: "
        f"{len(over)} ({', '.join(f'{c} {n}' for c, n in owners.most_common()) or 'none'})"
    )
    print(
        f"   viewers' worst gap since minute {since:.0f}: {1000 * gap:.0f} ms ({cam or '-'}; "
        f"timeline events around it: {events or 'none'}); reconnects so far {reconnects}"
    )
    sent = trickle.get("sent", 0)
    unexpected = sum(trickle.get("unexpected", {}).values())
    print(
        f"   hostile requests: {sent:,} short ones, open now "
        f"{dict(trickle.get('lingering', {})) or 'none'}, unexpected answers {unexpected}"
    )
    for kind, counts in sorted(trickle.get("answers", {}).items()):
        print(f"     {kind}: {sum(counts.values()):,} ({answers(counts)})")
    if fl is not None:
        print(f"   ended RTSP connections the kernel still flushes: {fl[0]} ({fl[1] / 1e6:.2f} MB)")
    own = [processes.usage(p.pid) for p in side if p.pid is not None]
    print(
        "   the benchmark's viewers and trickle: "
        + ", ".join(f"{u.rss_mb:.1f} MB ({u.cpu_s:.0f} s of CPU)" for u in own if u)
    )
    sys.stdout.flush()
    return [f"{minute:.0f}", f"{load:.1f}",
            *(f"{rss.get(n, float('nan')):.1f}" for n in NAMES),
            f"{due:,}", f"{100 * f.get('frames_sent', 0) / max(1, due):.2f}",
            f"{f.get('late_skips', 0):,}", f"{f.get('target_drops', 0):,}",
            f"{f.get('target_drops_slow', 0):,}", f"{1000 * gap:.0f}",
            f"{sent:,}", f"{unexpected}",
            "-" if fl is None else f"{fl[0]}/{fl[1] / 1e6:.1f}", str(len(stalls)),
            str(len(over))]  # fmt: skip


def summary(args: argparse.Namespace, curve: list, reports: list[list[str]],
            status: dict[str, Path], t_begin: float, code: int) -> None:  # fmt: skip
    print()
    print(table(reports, ["minute", "load", "serve MB", "lab MB", "loadtest MB",
                          "frames due", "sent %", "late skips", "target drops",
                          "on slow rdrs'", "worst gap ms", "hostile", "unexpected",
                          "flushing n/MB", "serve stalls", "gaps > goal"]))  # fmt: skip
    warmup = sum(1 for m, _, _ in curve if m < args.warmup_minutes)
    print(
        f"\n# RSS growth from minute {args.warmup_minutes:g} to the end (goal < 1 %; "
        f"{len(curve)} samples, mean of the first and last three after warm-up):"
    )
    for n in [*NAMES, *sorted({k for r in curve for k in r[2]} - set(NAMES))]:
        series = [r[2][n] for r in curve if n in r[2]]
        first, last = ends(series, warmup if len(series) == len(curve) else 0)
        print(f"  {n}: {first:.1f} -> {last:.1f} MB, {100 * (last - first) / first:+.2f} %")

    viewers = hostile.read_status(status["viewers"])
    goal = args.gap_goal_ms / 1000
    rows, over = [], 0
    for v in viewers.get("viewers", []):
        worst = v["worst"][0] if v["worst"] else {"gap_s": 0, "at_s": 0, "events": []}
        unexplained = [g for g, _, ev, *_ in v["by_minute"].values() if not ev]
        over += sum(1 for g, _, ev, *_ in v["by_minute"].values() if g > goal and not ev)
        rows.append([v["camera"], f"{v['frames']:,}", f"{1000 * worst['gap_s']:.0f}",
                     f"{worst['at_s'] / 60:.1f}", " ".join(worst["events"]) or "none",
                     f"{1000 * max(unexplained, default=0):.0f}",
                     str(v["reconnects"])])  # fmt: skip
    print(
        f"\n# viewers (TCP, read whole): worst gap between two frames (goal: none over "
        f"{args.gap_goal_ms:g} ms that the timeline does not explain)"
    )
    print(table([r[:4] + r[5:] + r[4:5] for r in rows],
                ["camera", "frames", "worst gap ms", "at minute", "worst unexplained ms",
                 "reconnects", "timeline events around the worst"], left=(0, 6)))  # fmt: skip
    print(f"minutes whose worst gap was over {args.gap_goal_ms:g} ms, unexplained: {over}")
    print(f"\n# whose were the gaps (serve's loop stalls, the frames' send times, the viewers' "
          f"own process; load average over the run {loads(curve)}):")  # fmt: skip
    journal = read_journal(status["trickle"].with_name("hostile-requests.jsonl"))
    for line in soak_gaps.summary_lines(
        soak_gaps.serve_stalls(args.out / "serve.log", t_begin),
        soak_gaps.gaps(viewers, goal),
        viewers.get("own_stalls", []),
        journal,
    ):
        print(line)
    for e in viewers.get("errors", []):
        print(f"  viewers' error: {e}")

    trickle = hostile.read_status(status["trickle"])
    if trickle:
        rows = [[k, f"{sum(c.values()):,}", answers(c), str(trickle["unexpected"].get(k, 0))]
                for k, c in sorted(trickle["answers"].items())]  # fmt: skip
        print(
            f"\n# hostile requests over {trickle.get('elapsed_s', 0) / 60:.0f} min "
            f"({trickle.get('sent', 0):,} short ones and the long-lived ones)"
        )
        print(table([[k, n, u, a] for k, n, a, u in rows],
                    ["kind", "sent", "unexpected", "answers"], left=(0, 3)))  # fmt: skip
        for e in trickle.get("examples", []):
            print(f"  unexpected: {e}")
        for e in trickle.get("errors", []):
            print(f"  the trickle's own error: {e}")

    found = tracebacks(args.out, t_begin)
    print(
        f"\n# tracebacks in the run's logs ({args.out}, files written during the run): "
        f"{sum(n for n, _ in found.values()) or 'none'}"
    )
    for name, (n, lines) in found.items():
        print(f"  {name}: {n}: " + " | ".join(lines))

    verdict = args.out / "verdict.json"
    try:
        checks = ledger_checks(args.out)
    except Exception as exc:  # noqa: BLE001 - a lab that did not end writes no `ended`
        print(f"\nledger: not checked ({type(exc).__name__}: {exc}); lab exit {code}")
        return
    print(f"\nledger: {checks['cameras']} cameras, {checks['intervals_min']}-"
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
