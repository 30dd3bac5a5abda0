"""ZoneMinder under camsim cameras: CPU and memory per monitor, time to the first recorded
frames, and the frame rate it records. Prints a table; `--json FILE` also writes the figures.
Not a test. Needs root (it runs the setup script) and a ZoneMinder nobody else is loading.

    python benchmarks/bench_zoneminder.py                         # 2 tiny cameras, no decoding
    python benchmarks/bench_zoneminder.py --cameras 4 --decoding  # decode too (live views)
    python benchmarks/bench_zoneminder.py --scenario scenarios/strasbourg.yaml --cameras 2

CPU is the capture daemons' own (utime + stime of each `zmc -m N`, from /proc) over a window
after every monitor recorded; camsim's own CPU is printed too, so a slow harness shows.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from simulator.targets import FastClient  # noqa: E402
from simulator.targets.zoneminder import ZoneMinder  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")
PREFIX = "bench-"


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def zmc_pid(monitor_id: str) -> int | None:
    run = subprocess.run(["pgrep", "-f", f"zmc -m {monitor_id}$"], capture_output=True, text=True)
    pids = run.stdout.split()
    return int(pids[0]) if pids else None


def probe_size(rtsp: str) -> tuple[int, int]:
    run = subprocess.run(
        ["ffprobe", "-v", "error", "-rtsp_transport", "tcp", "-select_streams", "v:0",
         "-show_entries", "stream=width,height", "-of", "csv=p=0", rtsp],
        capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    w, h = run.stdout.strip().split(",")[:2]
    return int(w), int(h)


def serve(scenario: str, cameras: int) -> tuple[subprocess.Popen, list[str]]:
    cmd = [sys.executable, "-m", "simulator.cli", "serve", scenario,
           "--cameras", str(cameras), "--rtsp-port", "0", "--api-port", "0",
           "--no-faults"]  # fmt: skip
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT
    )
    assert proc.stdout is not None and proc.stderr is not None
    for line in proc.stderr:
        if line.startswith("camsim serve:"):
            break
    else:
        sys.exit(f"camsim serve did not start (exit {proc.wait()})")
    urls = [proc.stdout.readline().split()[0] for _ in range(cameras)]
    threading.Thread(target=proc.stdout.read, daemon=True).start()
    threading.Thread(target=proc.stderr.read, daemon=True).start()
    return proc, urls


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scenario", default=str(ROOT / "tests/streams/tiny.yaml"))
    ap.add_argument("--cameras", type=int, default=2)
    ap.add_argument("--decoding", action="store_true", help="DecodingEnabled=1 on the monitors")
    ap.add_argument("--window", type=float, default=60.0, help="CPU window, seconds")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()

    t = time.perf_counter()
    url = subprocess.run(
        ["bash", str(ROOT / "simulator/targets/setup/zoneminder.sh")],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    setup_s = time.perf_counter() - t
    client = FastClient(timeout_s=30)
    settings = {"DecodingEnabled": int(args.decoding), "SectionLength": 20}
    zm = ZoneMinder(client, url, monitor=settings)
    camsim, urls = serve(args.scenario, args.cameras)
    since = datetime.now(UTC).replace(microsecond=0)
    ids: list[str] = []
    try:
        added = {}
        for i, rtsp in enumerate(urls):
            # ZoneMinder scales decoded pictures to the monitor's size: give it the real one.
            w, h = probe_size(rtsp)
            ids.append(zm.add_camera(f"{PREFIX}{i}", rtsp, w, h, 25))
            added[ids[-1]] = time.perf_counter()
        # The event row appears when recording starts; its Frames only when ZoneMinder first
        # writes them to the database (after about 100 frames).
        event: dict[str, float] = {}
        first: dict[str, float] = {}
        deadline = time.perf_counter() + 120
        while len(first) < len(ids) and time.perf_counter() < deadline:
            for mid in set(ids) - set(first):
                evs = zm.events(mid, since, datetime.now(UTC))
                if evs and mid not in event:
                    event[mid] = time.perf_counter() - added[mid]
                if any(e.frames > 0 for e in evs):
                    first[mid] = time.perf_counter() - added[mid]
            time.sleep(0.25)
        pids = {mid: zmc_pid(mid) for mid in ids}
        c0 = {mid: cpu_s(p) for mid, p in pids.items() if p}
        s0, t0 = cpu_s(camsim.pid), time.perf_counter()
        time.sleep(args.window)
        wall = time.perf_counter() - t0
        cpu = {mid: (cpu_s(pids[mid]) - c) / wall for mid, c in c0.items()}  # type: ignore[arg-type]
        rss = {mid: rss_mb(p) for mid, p in pids.items() if p}
        camsim_cpu = (cpu_s(camsim.pid) - s0) / wall
        fps, whole_events = {}, {}
        for mid in ids:  # the first event also holds frames buffered before it: left out
            whole = [e for e in zm.events(mid, since, datetime.now(UTC)) if e.end is not None][1:]
            secs = sum(e.length_s or 0 for e in whole)
            fps[mid] = sum(e.frames for e in whole) / secs if secs else None
            whole_events[mid] = len(whole)
    finally:
        for mid in ids:
            zm.remove_camera(mid)
            zm.delete_events(mid)
        camsim.terminate()
        camsim.wait(timeout=15)
    figures = {
        "cameras": args.cameras, "decoding": args.decoding, "scenario": args.scenario,
        "setup_s": round(setup_s, 2), "window_s": round(wall, 1),
        "camsim_cpu_cores": round(camsim_cpu, 4),
        "monitors": [
            {"id": mid, "time_to_first_event_s": round(event.get(mid, float("nan")), 2),
             "time_to_first_frames_s": round(first.get(mid, float("nan")), 1),
             "whole_events": whole_events[mid],
             "zmc_cpu_cores": round(cpu.get(mid, float("nan")), 4),
             "zmc_rss_mb": round(rss.get(mid, float("nan")), 1),
             "recorded_fps": None if fps[mid] is None else round(fps[mid], 2)}
            for mid in ids
        ],
    }  # fmt: skip
    print(f"ZoneMinder setup script: {setup_s:.2f} s; camsim: {camsim_cpu:.1%} of a core")
    print("monitor  first event  frames in DB  zmc CPU  zmc RSS  recorded fps (whole events)")
    for m in figures["monitors"]:  # type: ignore[union-attr]
        print(f"{m['id']:>7}  {m['time_to_first_event_s']:>9} s"
              f"  {m['time_to_first_frames_s']:>10} s"
              f"  {m['zmc_cpu_cores']:>7.1%}  {m['zmc_rss_mb']:>5} MB"
              f"  {m['recorded_fps']} ({m['whole_events']})")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
