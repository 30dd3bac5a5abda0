"""RTSP viewers' cost: N plain-socket viewers (`loadtests.users.rtsp.RtspViewer`) in one
gevent process watching `camsim serve`'s cameras for a while. Prints a table; not a test.

    python benchmarks/bench_rtsp_viewers.py                      # 8 and 32 viewers, 15 s
    python benchmarks/bench_rtsp_viewers.py --viewers 450 --cameras 8   # the city
    python benchmarks/bench_rtsp_viewers.py --viewers 16 --seconds 5 --cameras 2

The cameras are the Strasbourg scenario's first ones (1080p25 H.264 at its 4 Mbps target,
group overlays: shared clips); each viewer watches one, round-robin. Figures: the viewers'
process CPU (CPU time over wall time, % of one core, and seconds), frames counted, the bytes
of RTP the viewers received against those the server says it sent (`/metrics`
bytes_sent; each viewer reads up to its TEARDOWN's answer, so the two are equal when every
frame was counted), frames the server dropped for slow clients, RTP gaps, viewers that
drained, received Mbps, the SEI latency p50/p99, the server's CPU and the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))
from endpoint import cpu_s  # noqa: E402

ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def child(urls: list[str], viewers: int, seconds: float) -> None:
    from gevent import monkey

    monkey.patch_all()
    import resource
    import time

    import gevent
    import numpy as np

    from loadtests.users.rtsp import RtspViewer

    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.monotonic()
    jobs = [gevent.spawn(RtspViewer(urls[i % len(urls)]).watch, seconds) for i in range(viewers)]
    gevent.joinall(jobs)
    wall = time.monotonic() - t0
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime
    stats = [j.value for j in jobs if j.value is not None]
    lat = np.array([x for s in stats for x in s.latencies] or [0.0])
    print(json.dumps({
        "viewers": viewers, "ok": len(stats), "cpu_pct": 100 * cpu / wall, "cpu_s": cpu,
        "wall_s": wall, "drained": sum(s.drained for s in stats),
        "wire_bytes": sum(s.wire_bytes for s in stats),
        "frames": sum(s.frames for s in stats), "gaps": sum(s.seq_gaps for s in stats),
        "mbps": sum(s.bitrate_bps for s in stats) / 1e6,
        "lat_p50_ms": 1000 * float(np.percentile(lat, 50)),
        "lat_p99_ms": 1000 * float(np.percentile(lat, 99)),
    }))  # fmt: skip


def server_counts(api: str) -> dict[str, int]:
    """camsim serve's totals over all streams: frames_sent, bytes_sent, client_drops."""
    import urllib.request

    out = {}
    with urllib.request.urlopen(f"{api}metrics", timeout=10) as r:
        for line in r.read().decode().splitlines():
            for name in ("frames_sent", "bytes_sent", "client_drops"):
                if line.startswith(f'camsim_stream_{name}_total{{camera="all",stream="all"}}'):
                    out[name] = int(float(line.split()[-1]))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--viewers", default="8,32")
    ap.add_argument("--seconds", type=float, default=15.0)
    ap.add_argument("--cameras", type=int, default=4)
    ap.add_argument("--cache", default=str(Path(tempfile.gettempdir()) / "camsim-bench-clips"))
    ap.add_argument("--child", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        child(json.loads(a.child), int(a.viewers), a.seconds)
        return
    counts = [int(n) for n in a.viewers.split(",")]
    per_stream = -(-max(counts) // a.cameras) + 1
    serve = subprocess.Popen(
        [sys.executable, "-m", "simulator.cli", "serve", str(ROOT / "scenarios/strasbourg.yaml"),
         "--cameras", str(a.cameras), "--rtsp-port", "0", "--api-port", "0", "--no-faults",
         "--quiet", "--cache", a.cache, "--loop-seconds", "2", "--max-clients", str(per_stream),
         "--overlay", "group"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=ENV,
    )  # fmt: skip
    try:
        ready = json.loads(serve.stdout.readline())
        port, api = ready["rtsp_port"], ready["api"]
        import urllib.request

        with urllib.request.urlopen(ready["urls"], timeout=10) as r:
            urls = [c["streams"]["main"]["url"] for c in json.load(r)]
        print(f"{a.cameras} cameras on rtsp://127.0.0.1:{port}/, {a.seconds:g} s per viewing")
        print(f"{'viewers':>7} {'CPU %':>6} {'CPU s':>6} {'frames':>7} {'MB recv':>8} "
              f"{'MB sent':>8} {'drops':>5} {'gaps':>5} {'drained':>7} {'Mbps':>7} "
              f"{'lat p50':>8} {'lat p99':>8} {'serve %':>7} {'loadavg':>7}")  # fmt: skip
        for n in counts:
            before, serve_cpu = server_counts(api), cpu_s(serve.pid)
            out = subprocess.run(
                [sys.executable, __file__, "--child", json.dumps(urls), "--viewers", str(n),
                 "--seconds", str(a.seconds)], capture_output=True, text=True, env=ENV,
            )  # fmt: skip
            after, serve_cpu = server_counts(api), cpu_s(serve.pid) - serve_cpu
            if out.returncode != 0:
                print(f"{n:7d} failed: {out.stderr.strip()[-300:]}")
                continue
            r = json.loads(out.stdout.strip().splitlines()[-1])
            sent = after["bytes_sent"] - before["bytes_sent"]
            drops = after["client_drops"] - before["client_drops"]
            print(f"{n:7d} {r['cpu_pct']:6.1f} {r['cpu_s']:6.1f} {r['frames']:7d} "
                  f"{r['wire_bytes'] / 1e6:8.1f} {sent / 1e6:8.1f} {drops:5d} {r['gaps']:5d} "
                  f"{r['drained']:7d} {r['mbps']:7.1f} {r['lat_p50_ms']:7.1f}m "
                  f"{r['lat_p99_ms']:7.1f}m {100 * serve_cpu / r['wall_s']:7.1f} "
                  f"{os.getloadavg()[0]:7.2f}")  # fmt: skip
            if r["wire_bytes"] == sent and not drops and not r["gaps"] and r["drained"] == n:
                print(f"{'':7} every frame counted: the viewers received every byte the server "
                      f"sent ({sent:,}), none dropped, no gaps")  # fmt: skip
    finally:
        serve.terminate()
        serve.wait(15)


if __name__ == "__main__":
    main()
