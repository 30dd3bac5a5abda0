"""Soak benchmark of `camsim lab`: N cameras with the scenario's operators' load for an hour,
and beside them a steady trickle of hostile requests at the harness's own servers.

Runs `camsim lab SCENARIO --target rest` against the stub VMS (benchmarks/stub_vms.py, in its
own process; it records nothing, so the verdict shows every camera as a gap), with one
reader per camera on the generator's streams. Once the lab's window starts, two processes
join: benchmarks/trickle.py's trickle of hostile requests (`--no-hostile`: none) at camsim
serve's RTSP port and control API (garbage RTSP, non-ASCII digits, bad URLs, bare LF,
oversized heads and bodies, unauthenticated state-changing API calls, deeply nested bodies;
slow readers that PLAY over TCP and never read, idle connections sending a byte every few
seconds), about 2 requests a second, and benchmarks/viewers.py's `--viewers` well-behaved
RTSP viewers that time every frame. The lab's serve has no --user/--password (its API's
state-changing calls need its token: 401 without), so the digest replay goes to a small serve
beside it that asks for Digest credentials (benchmarks/replay.py): every 30 s a client plays
with the password and its captured PLAY is sent again on its connection (401), its SETUP and
PLAY on a new one (401 stale=true).

Every minute it samples the RSS of each harness process (camsim serve, camsim lab, camsim
loadtest with its Locust children) and every `--report-every` seconds prints: the RSS, frames
due and sent across all streams since the window began (late skips, fault drops, target
drops: those on the slow readers' cameras apart), serve's event-loop stalls over 100 ms and
the seconds in which it sent a frame over 100 ms late (its loop probe's lines in serve.log,
each with its cause: `busy`, `starved` of a CPU by other processes, `gc`, `thread`, `asleep`,
and the host's CPU use), the viewers' worst gap between two frames and whose each gap over
the goal was (serve, from the frames' SEI send times; the viewers' own process; delivery),
the hostile requests by kind and answer, and what the kernel still holds for connections
serve has ended (FIN-WAIT-1 send queues). At the end, as tables: the same per report, each
process's RSS growth after warm-up (goal < 1 %; the benchmark's own too: itself, its
readers, viewers and trickle), the viewers' worst gaps (goal: none over
--gap-goal-ms that no fault explains) and their owners, the hostile kinds sent just before
serve's stalls against chance, the hostile requests (answers a kind should not get counted
apart), the tracebacks in the run's logs (every file in OUT written during the run; goal:
none), the ledger's checks and the verdict.

Full run:   python benchmarks/bench_soak.py --minutes 60 --out /tmp/soak-hostile
Quick run:  python benchmarks/bench_soak.py --minutes 5 --cameras 50 --warmup-minutes 1
            (with --report-every 60 for a report every minute)
Figures (one run each): docs/performance.md, "Soak with the hostile".
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import time
import urllib.request
from pathlib import Path

import replay
import soak_report
from lab_under_test import LabUnderTest
from trickle import run_trickle
from viewers import run_viewers

from simulator.lab import processes


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
    ap.add_argument(
        "--report-every",
        type=float,
        default=300.0,
        help="seconds between reports (RSS, frames, gaps, hostile requests)",
    )
    ap.add_argument("--out", type=Path, default=Path("out/bench-soak"))
    ap.add_argument(
        "--no-hostile",
        dest="hostile",
        action="store_false",
        help="no hostile trickle (the viewers still run)",
    )
    ap.add_argument(
        "--hostile-interval",
        type=float,
        default=0.5,
        help="seconds between two short hostile requests",
    )
    ap.add_argument("--viewers", type=int, default=4, help="well-behaved viewers timing frames")
    ap.add_argument("--gap-goal-ms", type=float, default=200.0)
    args = ap.parse_args()  # fmt: skip
    soak_report.GAP_GOAL_S = args.gap_goal_ms / 1000

    t_begin = time.time()
    run = LabUnderTest.start(args.scenario, args.cameras, args.minutes * 60, args.out)
    curve: list[tuple[float, float, dict[str, float]]] = []  # (minute, load avg, rss by name)
    reports: list[list[str]] = []
    stop = mp.Event()
    side: list[mp.Process] = []
    status = {"trickle": args.out / "hostile.json", "viewers": args.out / "viewers.json"}
    for path in status.values():
        path.unlink(missing_ok=True)
    rtsp_port, api = int(run.ready["rtsp_port"]), str(run.ready["api"])
    guarded = None  # the serve asking for Digest credentials, for the replays
    try:
        started = run.wait_started()
        with urllib.request.urlopen(run.ready["urls"], timeout=60) as r:
            cams = json.loads(r.read())
        base = soak_report.counters(api)
        step = max(1, len(cams) // max(1, args.viewers))
        watched = [cams[(step // 2 + k * step) % len(cams)] for k in range(args.viewers)]
        ids = {c["id"] for c in watched}
        side.append(mp.Process(target=run_viewers, daemon=True, name="viewers", args=(
            rtsp_port, api, [(c["streams"]["main"]["url"], c["id"], c["district"])
                             for c in watched], stop, status["viewers"])))  # fmt: skip
        if args.hostile:
            guarded, replay_to = replay.start_serve(args.scenario, args.out / "serve-auth.log")
            urls = [c["streams"]["main"]["url"] for c in cams]
            spare = [c["streams"]["main"]["url"] for c in cams if c["id"] not in ids] or urls
            side.append(mp.Process(target=run_trickle, daemon=True, name="trickle", args=(
                rtsp_port, int(run.ready["api_port"]), str(run.ready.get("token", "")), urls,
                spare, stop, status["trickle"], args.hostile_interval),
                kwargs={"replay_to": replay_to}))  # fmt: skip
        for p in side:
            p.start()
        print(f"# soak: {args.cameras} cameras of {args.scenario} with its operators' load, "
              f"{args.minutes:g} min, against the stub VMS; {os.cpu_count()} CPUs; "
              f"load average at start {os.getloadavg()[0]:.1f}; viewers on "
              f"{', '.join(sorted(ids))}; hostile trickle "
              f"{f'every {args.hostile_interval:g} s' if args.hostile else 'off'}",
              flush=True)  # fmt: skip
        next_report = started + args.report_every
        last_report = 0.0
        # the viewers and the trickle stop a little before the lab's window ends (then serve)
        end = started + args.minutes * 60 - min(20.0, args.minutes * 3)
        while run.lab.poll() is None and time.time() < end:
            rss = {n: u.rss_mb for n, u in run.usage().items()} | own_rss(run, side)
            curve.append(((time.time() - started) / 60, os.getloadavg()[0], rss))
            if time.time() >= next_report - 1:
                next_report += args.report_every
                minute = (time.time() - started) / 60
                reports.append(soak_report.report(minute, last_report, rss, api, base, status,
                                                  started, rtsp_port, side))  # fmt: skip
                last_report = minute
            time.sleep(max(0.0, min(args.every, next_report - time.time(), end - time.time())))
        minute = (time.time() - started) / 60
        if minute - last_report > 0.5:
            rss = {n: u.rss_mb for n, u in run.usage().items()} | own_rss(run, side)
            reports.append(soak_report.report(minute, last_report, rss, api, base, status,
                                              started, rtsp_port, side))  # fmt: skip
        stop.set()
        for p in side:
            p.join(30)
        code = run.wait(args.minutes * 60 + 900)
    finally:
        stop.set()
        for p in side:
            if p.is_alive():
                p.terminate()
        if guarded is not None:
            replay.stop_serve(guarded)
        run.stop()
    soak_report.summary(args, curve, reports, status, t_begin, code)


def own_rss(run: LabUnderTest, side: list[mp.Process]) -> dict[str, float]:
    """RSS MB of the benchmark's own processes: itself, the readers, the viewers, the trickle
    (their growth is in the summary beside the harness's)."""
    pids = {"bench": os.getpid(), "bench readers": run.reader.pid if run.reader else None}
    pids |= {f"bench {p.name}": p.pid for p in side}
    return {n: u.rss_mb for n, pid in pids.items()
            if pid is not None and (u := processes.usage(pid)) is not None}  # fmt: skip


if __name__ == "__main__":
    main()
