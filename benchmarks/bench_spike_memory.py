"""What a bitrate spike leaves in `camsim serve`'s memory once it is over.

Starts `camsim serve` on a few cameras of a scenario (no timeline: only the faults posted
here), one TCP reader on each camera's main stream (bench_streams' reader: data discarded in
the kernel), lets it settle, then posts `bitrate_spike` faults through the control API, one
at a time and each `--spike-s` long: `--same` spikes with the same factor, then one spike for
each of `--factors`. Around each spike it prints serve's RSS (/proc/PID/status VmRSS) before,
at its peak while spiked, and `--after-s` seconds after it ended (the loop's spiked copy is
released RELEASE_AFTER_S after the last frame that asked for it), with the resident memory
split by where it lives (/proc/PID/smaps): the main heap ([heap], brk: the event loop's
malloc), glibc's per-thread arenas (anonymous regions inside a 64 MiB aligned reservation,
what a worker thread mallocs in), and other anonymous mappings: pymalloc's 1 MiB arenas of
small Python objects (the kernel merges neighbours into one mapping) and the blocks of
128 KiB and more that malloc maps alone (unmapped when freed, so not a remnant). At the end:
the remnant of each spike (after − before) and of all of them against the level before the
first: a high-water mark (a factor seen before adds nothing) or growth with every spike.
First, in this process, the time to build a spiked copy of a 2 MB loop and the memory it
holds, as serve builds it and as it did before (each frame packetised whole with its filler).

Run:  python benchmarks/bench_spike_memory.py
      python benchmarks/bench_spike_memory.py --builds-only --factors 2,5,8
      python benchmarks/bench_spike_memory.py --cameras neuhof-012 --same 6 --factors 3,4,5,6
Figures: the commit that added this script and the ones after it (issue 16, items 5-6).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import random
import subprocess
import sys
import time
import tracemalloc
import urllib.request
from urllib.parse import urlsplit

from bench_streams import _reader

from simulator.streams.encoder import Clip
from simulator.streams.filler import filler_h264
from simulator.streams.loop import Loop, _frame

ARENA = 64 << 20  # glibc's HEAP_MAX_SIZE on 64-bit: a thread arena's reservation


def rss_mb(pid: int) -> float:
    """VmRSS of `pid`, MB."""
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def where(pid: int) -> dict[str, float]:
    """Resident MB by kind of mapping: heap, thread arenas, other anonymous, files."""
    out = dict.fromkeys(("heap", "arenas", "anon", "files"), 0.0)
    kind = "files"
    with open(f"/proc/{pid}/smaps", encoding="utf-8", errors="replace") as f:
        for line in f:
            head = line.split()
            if "-" in head[0] and len(head) >= 5 and not head[0].endswith(":"):
                lo, hi = (int(x, 16) for x in head[0].split("-"))
                name = head[5] if len(head) > 5 else ""
                if name == "[heap]":
                    kind = "heap"
                elif name.startswith("/") or name.startswith("["):
                    kind = "files"
                elif lo // ARENA == (hi - 1) // ARENA and (lo % ARENA == 0 or hi % ARENA == 0):
                    kind = "arenas"  # inside one aligned 64 MiB reservation
                else:
                    kind = "anon"
            elif head[0] == "Rss:":
                out[kind] += int(head[1]) / 1024
    return out


def compare_builds(factors: list[float]) -> None:
    """In this process: a spiked copy of a 2 MB H.264 loop (a 120 KB keyframe, 99 frames of
    18 KB) as serve builds it (Loop.spiked_frames: the loop's packets and shared filler ones)
    against packetising every frame with its filler NAL unit (what serve did before): the
    time to build it and the memory it holds (tracemalloc)."""
    rng = random.Random(1)
    units = [[b"\x67" + bytes(20), b"\x65" + rng.randbytes(120_000)]]
    units += [[b"\x41" + rng.randbytes(18_000)] for _ in range(99)]
    loop = Loop.of(Clip("h264", 1920, 1080, 25.0, 100, units, [i == 0 for i in range(100)]))

    def whole(f: float) -> list:
        return [_frame("h264", [*u, filler_h264(int(sum(map(len, u)) * (f - 1)))], k, True)
                for u, k in zip(loop.clip.frames, loop.clip.keyframes, strict=True)]  # fmt: skip

    print("# a spiked copy of a 2 MB loop: whole packets (before) against shared filler (now)")
    for f in sorted(set(factors)):
        row = []
        for build in (whole, loop.spiked_frames):
            t = time.perf_counter()
            copy = build(f)
            took = time.perf_counter() - t
            del copy
            tracemalloc.start()
            copy = build(f)
            held = tracemalloc.get_traced_memory()[0]
            tracemalloc.stop()
            del copy
            row.append(f"{1000 * took:5.1f} ms, {held / 1e6:6.2f} MB")
        print(f"  x{f:<4g} whole: {row[0]}   shared filler: {row[1]}")


def post(api: str, token: str, cam: str, body: dict) -> None:
    req = urllib.request.Request(
        f"{api.rstrip('/')}/api/cameras/{cam}/faults",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        r.read()


def line(label: str, pid: int) -> dict[str, float]:
    w = where(pid)
    w["rss"] = rss_mb(pid)
    parts = ", ".join(f"{k} {v:.1f}" for k, v in w.items() if k != "rss")
    print(f"  {label:<22} RSS {w['rss']:7.1f} MB  ({parts})", flush=True)
    return w


def spike(api: str, token: str, cams: list[str], pid: int, factor: float, args) -> dict:  # noqa: ANN001
    """One spike on every camera: RSS before, at its peak, and after it ended."""
    before = line(f"x{factor:g} before", pid)
    for cam in cams:
        post(
            api, token, cam, {"kind": "bitrate_spike", "factor": factor, "duration_s": args.spike_s}
        )
    peak, end = 0.0, time.monotonic() + args.spike_s
    while time.monotonic() < end:
        peak = max(peak, rss_mb(pid))
        time.sleep(0.25)
    print(f"  {f'x{factor:g} spiked':<22} RSS {peak:7.1f} MB at its peak", flush=True)
    time.sleep(args.after_s)
    after = line(f"x{factor:g} {args.after_s:g} s after", pid)
    return {"factor": factor, "before": before, "peak": peak, "after": after}


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--scenario", default="scenarios/strasbourg.yaml")
    ap.add_argument(
        "--cameras", default="neuhof-012,neuhof-013", help="serve's --cameras; every one is spiked"
    )
    ap.add_argument("--same", type=int, default=4, help="spikes with the first factor")
    ap.add_argument("--factors", default="2,3,4,5,2.5", help="then one spike with each")
    ap.add_argument("--spike-s", type=float, default=16.0)
    ap.add_argument("--after-s", type=float, default=12.0, help="wait after a spike ends")
    ap.add_argument("--settle-s", type=float, default=20.0)
    ap.add_argument("--builds-only", action="store_true", help="only the in-process comparison")
    args = ap.parse_args()
    factors = [float(x) for x in args.factors.split(",")]
    compare_builds(factors)
    if args.builds_only:
        return
    cmd = [
        sys.executable,
        "-m",
        "simulator.cli",
        "serve",
        args.scenario,
        "--cameras",
        args.cameras,
        "--rtsp-port",
        "0",
        "--api-port",
        "0",
        "--no-faults",
        "--quiet",
        "--overlay",
        "group",
    ]
    serve = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    stop, ready_ev, got = mp.Event(), mp.Event(), mp.Queue()
    reader = None
    try:
        assert serve.stdout is not None
        ready = next(json.loads(x) for x in serve.stdout if x.startswith("{"))
        api, token, pid = ready["urls"].rsplit("/api/", 1)[0], ready["token"], serve.pid
        req = urllib.request.Request(ready["urls"], headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(req, timeout=30) as r:
            served = json.loads(r.read())
        cams = [c["id"] for c in served]
        urls = [urlsplit(c["streams"]["main"]["url"]) for c in served]
        reader = mp.Process(
            target=_reader,
            args=(urls[0].port, [u.path.lstrip("/") for u in urls], "tcp", ready_ev, stop, got),
        )
        reader.start()
        ready_ev.wait(60)
        print(
            f"# camsim serve (pid {pid}) on {', '.join(cams)}, a TCP reader on each main "
            f"stream; spikes of {args.spike_s:g} s, RSS {args.after_s:g} s after each; "
            "resident MB by mapping: heap = [heap], arenas = glibc thread arenas, "
            "anon = other anonymous maps (pymalloc's arenas)",
            flush=True,
        )
        time.sleep(args.settle_s)
        start = line("settled", pid)
        runs = [spike(api, token, cams, pid, factors[0], args) for _ in range(args.same)]
        runs += [spike(api, token, cams, pid, f, args) for f in factors[1:]]
        print("\n# remnant of each spike (after - before, MB) and where it went")
        print("  spike   factor   peak +MB   remnant   total since settled    heap  arenas    anon")
        for i, r in enumerate(runs, 1):
            a, b = r["after"], r["before"]
            print(
                f"  {i:5}   x{r['factor']:<5g}  {r['peak'] - b['rss']:8.1f}  "
                f"{a['rss'] - b['rss']:+8.1f}   {a['rss'] - start['rss']:+8.1f} "
                f"({100 * (a['rss'] - start['rss']) / start['rss']:+.1f} %)      "
                + "  ".join(f"{a[k] - b[k]:+6.1f}" for k in ("heap", "arenas", "anon"))
            )
        first, rest = runs[0], runs[1:]
        later = max((r["after"]["rss"] - r["before"]["rss"] for r in rest), default=0.0)
        total = runs[-1]["after"]["rss"] - start["rss"]
        print(
            f"\nfirst spike left {first['after']['rss'] - start['rss']:+.1f} MB; the largest "
            f"a later one added {later:+.1f} MB; after all {len(runs)}: {total:+.1f} MB "
            f"({100 * total / start['rss']:+.2f} % of {start['rss']:.1f} MB; goal within 1 %)"
        )
    finally:
        stop.set()
        if reader is not None:
            reader.join(10)
        serve.terminate()
        serve.wait(30)


if __name__ == "__main__":
    main()
