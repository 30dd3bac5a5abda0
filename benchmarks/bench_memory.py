"""Load-harness memory benchmark: memory per 1,000 users (operators' actions in flight at
once) and the RSS of a long run of camsim's operator user. Prints figures; not a test.

    python benchmarks/bench_memory.py users --users 1000,2000
    python benchmarks/bench_memory.py soak --minutes 30 --rate 50      # RSS over time, growth

`users`: in one gevent process (Locust imported, as in a load test), N live views started at
once through the dispatcher, the ZoneMinder adapter and its HTTP client against the local
endpoint (`endpoint.py`), which keeps each one streaming (a small part a second); the RSS
once all N are connected, minus the RSS before, per 1,000.

`soak`: `locust -f loadtests/locustfile.py` (headless, one process) replays a timeline of
tour steps (one GET each) and every 100th an alarm check (alarm on, acknowledge) at `--rate`
a second for `--minutes`; its RSS sampled every `--every-s`; growth after the warm-up
(`--warmup-min`) as the last sample over the first one after it, and as the least-squares
slope over the samples after it, times their span.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from endpoint import Endpoint, cpu_s, rss_mb  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "tests" / "streams" / "tiny.yaml"
LOCUSTFILE = ROOT / "loadtests" / "locustfile.py"
CAMERAS = ["h264cam-001", "h264cam-002", "h264cam-003", "h265cam-001", "mjpegcam-001"]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def users_child(n: int, port: int) -> None:
    """N live views at once in this (patched) process; prints {rss_before, rss_all_in} MB."""
    import gc

    import gevent
    import locust  # noqa: F401 - patches, and what a load test's process holds

    from loadtests.users.actions import Actions, AnchoredClock
    from loadtests.users.dispatcher import Dispatcher, Due
    from simulator.targets.http import FastClient
    from simulator.targets.zoneminder import ZoneMinder
    from simulator.timeline.clock import ReplayClock
    from simulator.timeline.event import Event

    fired = [0]

    def fire(**_: object) -> None:
        fired[0] += 1

    client = FastClient(30.0, fire, pool_size=n + 10)
    target = ZoneMinder(client, f"http://127.0.0.1:{port}/zm")
    target.login()
    now = time.monotonic()
    clock = ReplayClock(1.0, 0.0).started(now)
    actions = Actions(target, {c: "1" for c in CAMERAS}, AnchoredClock(clock, time.time()), fire)
    events = [Event(0.0, "live_view", CAMERAS[i % len(CAMERAS)],
                    params={"duration_s": 600.0, "operator": 0}) for i in range(n)]  # fmt: skip
    gc.collect()
    before = rss_mb(os.getpid())
    d = Dispatcher((Due(now, e.kind, e) for e in events), actions.run, fire,
                   max_in_flight=n + 10)  # fmt: skip
    d.start()
    ep_count = f"http://127.0.0.1:{port}/count"
    import urllib.request

    base = int(urllib.request.urlopen(ep_count, timeout=10).read())
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        gevent.sleep(0.5)
        if int(urllib.request.urlopen(ep_count, timeout=10).read()) - base >= n:
            break
    gevent.sleep(3.0)  # a few parts read by every view
    gc.collect()
    after = rss_mb(os.getpid())
    print(json.dumps({"n": n, "rss_before": before, "rss_all_in": after,
                      "in_flight": d.in_flight}))  # fmt: skip
    os._exit(0)  # the views run for minutes: leave without waiting for them


def users(counts: list[int]) -> None:
    ep = Endpoint(CAMERAS, stream_s=1.0)
    try:
        print(f"{'users':>6} {'in flight':>9} {'RSS before':>10} {'RSS all in':>10} "
              f"{'MB/1000':>8} {'loadavg':>7}")  # fmt: skip
        for n in counts:
            out = subprocess.run([sys.executable, __file__, "users-child", str(n), str(ep.port)],
                                 capture_output=True, text=True, env=ENV, timeout=300)  # fmt: skip
            if out.returncode != 0:
                print(f"{n:6d} failed: {out.stderr.strip()[-500:]}")
                continue
            r = json.loads(out.stdout.strip().splitlines()[-1])
            per = 1000 * (r["rss_all_in"] - r["rss_before"]) / n
            print(f"{n:6d} {r['in_flight']:9d} {r['rss_before']:10.1f} {r['rss_all_in']:10.1f} "
                  f"{per:8.1f} {os.getloadavg()[0]:7.2f}")  # fmt: skip
    finally:
        ep.stop()


def soak(minutes: float, rate: float, every_s: float, warmup_min: float) -> None:
    import numpy as np

    from simulator.timeline.event import Event

    ep = Endpoint(CAMERAS)
    tmp = Path(tempfile.mkdtemp(prefix="camsim-soak-"))
    try:
        n = int(rate * minutes * 60)
        timeline = tmp / "soak.jsonl"
        with timeline.open("w") as f:
            for i in range(n):
                cam, p = CAMERAS[i % len(CAMERAS)], {"duration_s": 1.0, "operator": i % 4}
                kind = "alarm" if i % 100 == 99 else "live_view"
                f.write(Event(i / rate, kind, cam, params=p).to_json() + "\n")
        summary = tmp / "summary.json"
        cmd = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
               "--only-summary", "--loglevel", "ERROR", "--host", f"http://127.0.0.1:{ep.port}/zm",
               "--camsim-scenario", str(SCENARIO), "--camsim-timeline", str(timeline),
               "--camsim-summary", str(summary)]  # fmt: skip
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                text=True, env=ENV, cwd=ROOT)  # fmt: skip
        t0 = time.monotonic()
        print(f"{n} actions in {minutes:g} min at {rate:g}/s; RSS every {every_s:g} s", flush=True)
        print(f"{'min':>6} {'RSS MB':>8} {'served':>9} {'CPU s':>7} {'loadavg':>7}", flush=True)
        samples: list[tuple[float, float]] = []
        while proc.poll() is None:
            t = (time.monotonic() - t0) / 60
            try:
                rss, cpu = rss_mb(proc.pid), cpu_s(proc.pid)
            except (OSError, RuntimeError):
                break
            samples.append((t, rss))
            print(f"{t:6.1f} {rss:8.1f} {ep.served():9d} {cpu:7.1f} {os.getloadavg()[0]:7.2f}",
                  flush=True)  # fmt: skip
            time.sleep(every_s)
        _, err = proc.communicate()
        after = [(t, r) for t, r in samples if t >= warmup_min and t <= minutes + 0.5]
        if len(after) < 2:
            print(f"too few samples after the warm-up ({len(after)}): {err[-800:]}")
            return
        t, r = np.array(after).T
        slope = np.polyfit(t, r, 1)[0]
        print(f"after {warmup_min:g} min of warm-up: {r[0]:.1f} MB → {r[-1]:.1f} MB "
              f"({100 * (r[-1] - r[0]) / r[0]:+.2f} %), max {r.max():.1f} MB; least-squares "
              f"slope {slope:+.3f} MB/min ({100 * slope * (t[-1] - t[0]) / r[0]:+.2f} % over "
              f"{t[-1] - t[0]:.0f} min)")  # fmt: skip
        if summary.exists():
            rows = json.loads(summary.read_text())["actions"]
            print("actions: " + ", ".join(
                f"{k} {v['count']} done, {v['failures']} failed, {v['late']} late, "
                f"{v['dropped']} dropped, lag p99 {v['lag_p99_ms']:.0f} ms"
                for k, v in rows.items()))  # fmt: skip
    finally:
        ep.stop()


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "users-child":
        users_child(int(sys.argv[2]), int(sys.argv[3]))
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="what", required=True)
    u = sub.add_parser("users", help="memory per 1,000 actions in flight")
    u.add_argument("--users", default="1000,2000")
    s = sub.add_parser("soak", help="RSS of a long run")
    s.add_argument("--minutes", type=float, default=30.0)
    s.add_argument("--rate", type=float, default=50.0, help="actions a second")
    s.add_argument("--every-s", type=float, default=30.0)
    s.add_argument("--warmup-min", type=float, default=5.0)
    a = ap.parse_args()
    if a.what == "users":
        users([int(x) for x in a.users.split(",")])
    else:
        soak(a.minutes, a.rate, a.every_s, a.warmup_min)


if __name__ == "__main__":
    main()
