"""Load-harness benchmark: how many operators' actions one process dispatches, and its own
dispatch lag, against a fast local endpoint. Prints a table; not a test.

    python benchmarks/bench_load.py                  # rates 100 … 2000 actions/s, 10 s each
    python benchmarks/bench_load.py --quick          # 2 s each

Each rate runs in a fresh, gevent-patched process: the open-model dispatcher starts one action
per due time, each action one GET through Locust's HttpSession (what the operator user uses)
to a gevent WSGI server in another process answering "ok". Figures: actions/s achieved, the
dispatch lag p50/p99/max (start minus due: the harness's own lateness), actions started late
(lag > 100 ms), dropped (5,000 in flight) and the process's CPU seconds per 1,000 started.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
POOL = 200  # connections kept per host (as the operator user keeps them)

SERVER = """
from gevent import monkey; monkey.patch_all()
from gevent.pywsgi import WSGIServer
def app(env, start):
    start("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]
s = WSGIServer(("127.0.0.1", 0), app, log=None)
s.start(); print(s.server_port, flush=True); s.serve_forever()
"""


PLAIN = """
from locust import FastHttpUser, HttpUser, constant, task
class Plain{kind}({kind}):
    wait_time = constant(0)
    @task
    def get(self):
        self.client.get("/", name="live_view")
"""


def plain(kind: str, port: int, seconds: float, tmp: Path) -> tuple[float, float]:
    """Requests/s and CPU % of one plain Locust process ({Fast,}HttpUser, closed loop, 20
    users, no wait) against the same server: what Locust itself does on this machine."""
    import csv
    import resource

    locustfile = tmp / f"plain_{kind}.py"
    locustfile.write_text(PLAIN.format(kind=kind))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(
        [sys.executable, "-m", "locust", "-f", str(locustfile), "--headless", "-u", "20",
         "-r", "20", "--run-time", f"{seconds:g}s", "--host", f"http://127.0.0.1:{port}",
         "--csv", str(tmp / kind), "--only-summary", "--loglevel", "ERROR"],
        capture_output=True, timeout=seconds + 60,
    )  # fmt: skip
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    with open(tmp / f"{kind}_stats.csv", newline="") as f:
        total = next(r for r in csv.DictReader(f) if r["Name"] == "Aggregated")
    return float(total["Requests/s"]), 100 * cpu / seconds


def child(rate: float, seconds: float, port: int) -> None:
    """One rate in this (patched) process: prints a JSON line of figures."""
    from gevent import monkey

    monkey.patch_all()
    import resource
    import time

    import numpy as np
    from locust.clients import HttpSession
    from locust.event import EventHook

    from loadtests.users.dispatcher import DISPATCH, Dispatcher, Due

    lags, failures = [], [0]
    hook = EventHook()

    def on_request(request_type, exception=None, response_time=0.0, **_):  # noqa: ANN001, ANN003
        if request_type == DISPATCH:
            lags.append(response_time)
        elif exception is not None:
            failures[0] += 1

    hook.add_listener(on_request)
    from urllib3 import PoolManager

    pool = PoolManager(maxsize=POOL, block=False)
    session = HttpSession(f"http://127.0.0.1:{port}", hook, None, pool_manager=pool)
    n = int(rate * seconds)
    origin = time.monotonic() + 0.5
    schedule = (Due(origin + i / rate, "live_view", i) for i in range(n))

    def run(_: int) -> None:
        session.get("/", name="live_view", timeout=10)

    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    d = Dispatcher(schedule, run, hook.fire, max_in_flight=5000, late_s=0.1)
    t0 = time.monotonic()
    d.start()
    d.join()
    wall = time.monotonic() - t0
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime
    lag = np.array(lags)
    print(json.dumps({
        "rate": rate, "actions": n, "started": d.tally.started, "dropped": d.tally.dropped,
        "late": d.tally.late, "failures": failures[0], "achieved": d.tally.started / (wall - 0.5),
        "lag_p50_ms": float(np.percentile(lag, 50)), "lag_p99_ms": float(np.percentile(lag, 99)),
        "lag_max_ms": float(lag.max()), "cpu_s_per_1000": 1000 * cpu / max(1, d.tally.started),
    }))  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--rates", default="100,250,500,1000,2000")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        child(float(a.child[0]), float(a.child[1]), int(a.child[2]))
        return
    seconds = 2.0 if a.quick else 10.0
    env = {"PYTHONPATH": str(ROOT)}
    server = subprocess.Popen([sys.executable, "-c", SERVER], stdout=subprocess.PIPE, text=True)
    try:
        port = int(server.stdout.readline())
        print(f"{'rate/s':>7} {'achieved/s':>10} {'lag p50':>8} {'lag p99':>8} {'lag max':>8} "
              f"{'late':>6} {'dropped':>7} {'failed':>6} {'CPU s/1000':>10}")  # fmt: skip
        for rate in map(float, a.rates.split(",")):
            out = subprocess.run(
                [sys.executable, __file__, "--child", str(rate), str(seconds), str(port)],
                capture_output=True, text=True, env={**__import__("os").environ, **env},
            )  # fmt: skip
            if out.returncode != 0:
                print(f"{rate:7.0f} failed: {out.stderr.strip()[-300:]}")
                continue
            r = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"{rate:7.0f} {r['achieved']:10.0f} {r['lag_p50_ms']:7.1f}m "
                  f"{r['lag_p99_ms']:7.1f}m "
                  f"{r['lag_max_ms']:7.1f}m {r['late']:6d} {r['dropped']:7d} {r['failures']:6d} "
                  f"{r['cpu_s_per_1000']:10.2f}")  # fmt: skip
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            for kind in ("HttpUser", "FastHttpUser"):
                rps, cpu = plain(kind, port, seconds, Path(tmp))
                print(f"plain Locust {kind}: {rps:.0f} requests/s at {cpu:.0f} % CPU "
                      f"({100 * rps / max(cpu, 1e-9):.0f} requests/s per core)")  # fmt: skip
    finally:
        server.terminate()


if __name__ == "__main__":
    main()
