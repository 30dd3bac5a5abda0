"""Load-harness benchmark: requests per second per core of the operator user (camsim's
locustfile, open-model, through the ZoneMinder adapter), side by side with plain Locust
`FastHttpUser` and `HttpUser` against the same fast local endpoint, in the same run. Prints a
table; not a test.

    python benchmarks/bench_load.py                       # 1000 and 2000 actions/s, 10 s each
    python benchmarks/bench_load.py --rates 500 --seconds 5

The endpoint (`endpoint.py`) is a gevent WSGI server in its own process that plays a
ZoneMinder just enough for the adapter and answers each live view "ok", and counts them.
Each load runs in its own Locust process (headless, one process); its
requests are the server's count, its CPU the process's own user + system time read from
/proc over the same window (the load only, not Locust's start-up). Requests per core is
requests / CPU seconds; other work on the machine moves it (woken late, a process finds more
to do at each wake-up and pays less per request), hence the load average beside each row. The
operator user's actions are tour steps (`live_view`, one GET of nph-zms each), replayed from
a timeline at the given rate; the plain users run closed-loop (20 users, no wait), and plain
`FastHttpUser` once more at each of the operator's rates (`constant_throughput`, 10 requests a
second per user): a process woken 250 times a second pays more per request than one kept
busy, so the ratio is given against both.

The endpoint writes an answer's headers and body in two sends, so each answer's body waits
for the client's delayed ACK (about 40 ms): every load sees the same 40 ms answers.
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
from endpoint import Endpoint, cpu_s  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "tests" / "streams" / "tiny.yaml"
LOCUSTFILE = ROOT / "loadtests" / "locustfile.py"
CAMERA = "h264cam-001"

PLAIN = """
from locust import FastHttpUser, HttpUser, constant, task
class Plain{kind}({kind}):
    wait_time = constant(0)
    @task
    def get(self):
        self.client.get("/zm/cgi-bin/nph-zms", name="live_view")
"""


def measure(cmd: list[str], ep: Endpoint, start_s: float, seconds: float) -> dict[str, float]:
    """Run a Locust process; over [start_s, start_s + seconds] after its start: requests the
    server answered, CPU seconds it used, and the machine's load average."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=ROOT)  # fmt: skip
    try:
        time.sleep(start_s)
        n0, c0 = ep.served(), cpu_s(proc.pid)
        time.sleep(seconds)
        n1, c1 = ep.served(), cpu_s(proc.pid)
        load = os.getloadavg()[0]
    finally:
        try:
            _, err = proc.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
    if n1 == n0:
        raise RuntimeError(f"no requests served: {err[-1500:]}")
    return {"requests": n1 - n0, "cpu": c1 - c0, "wall": seconds, "load": load}


def operator_run(rate: float, seconds: float, ep: Endpoint, tmp: Path) -> dict[str, float]:
    """camsim's operator user replaying `rate` tour steps a second for `seconds` (+ ramps)."""
    from simulator.timeline.event import Event

    lead, ramp = 1.0, 1.5  # the replay starts `lead` after the test; skip `ramp` of it
    n = int(rate * (seconds + 2 * ramp))
    timeline = tmp / f"tour-{rate:g}.jsonl"
    with timeline.open("w") as f:
        for i in range(n):
            e = Event(i / rate, "live_view", CAMERA, params={"duration_s": 1.0, "operator": 0})
            f.write(e.to_json() + "\n")
    summary = tmp / f"summary-{rate:g}.json"
    cmd = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--only-summary",
           "--loglevel", "ERROR", "--host", f"http://127.0.0.1:{ep.port}/zm",
           "--camsim-scenario", str(SCENARIO), "--camsim-timeline", str(timeline),
           "--camsim-cameras", CAMERA, "--camsim-lead-s", str(lead),
           "--camsim-max-in-flight", "5000", "--camsim-summary", str(summary)]  # fmt: skip
    # start-up (imports, the plan) takes a few seconds before the test: wait for the replay
    got = measure(cmd, ep, startup_s(tmp) + lead + ramp, seconds)
    row = json.loads(summary.read_text())["actions"]["live_view"]
    got |= {"lag_p99_ms": row["lag_p99_ms"], "late": row["late"], "dropped": row["dropped"],
            "failed": row["failures"]}  # fmt: skip
    return got


_STARTUP: list[float] = []


def startup_s(tmp: Path) -> float:
    """How long `locust -f loadtests/locustfile.py` takes to start a test here (measured once
    with a timeline of one action, plus a margin)."""
    if not _STARTUP:
        from simulator.timeline.event import Event

        one = tmp / "one.jsonl"
        one.write_text(Event(0.0, "live_view", CAMERA, params={"duration_s": 0.0}).to_json())
        t0 = time.monotonic()
        subprocess.run(
            [sys.executable, "-c", "import locust, loadtests.locustfile, loadtests.plan as p; "
             f"p.Plan(p.Settings(scenario={str(SCENARIO)!r}, timeline={str(one)!r}, "
             f"cameras={CAMERA!r})).actions"],
            env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=ROOT, check=True,
        )  # fmt: skip
        _STARTUP.append(time.monotonic() - t0 + 1.0)
    return _STARTUP[0]


PACED = """
from locust import FastHttpUser, constant_throughput, task
class PacedFastHttpUser(FastHttpUser):
    wait_time = constant_throughput({per_user:g})
    @task
    def get(self):
        self.client.get("/zm/cgi-bin/nph-zms", name="live_view")
"""
PER_USER = 10.0  # requests a second of each paced user (each answer takes about 45 ms)


def plain_run(kind: str, seconds: float, ep: Endpoint, tmp: Path,
              rate: float | None = None) -> dict[str, float]:  # fmt: skip
    """Plain Locust `kind`, closed-loop (20 users), or paced at `rate` requests a second."""
    locustfile = tmp / f"plain_{kind}_{rate or 0:g}.py"
    users = 20 if rate is None else max(1, round(rate / PER_USER))
    locustfile.write_text(PLAIN.format(kind=kind) if rate is None
                          else PACED.format(per_user=rate / users))  # fmt: skip
    cmd = [sys.executable, "-m", "locust", "-f", str(locustfile), "--headless", "-u", str(users),
           "-r", str(users), "--run-time", f"{seconds + 6:g}s", "--host",
           f"http://127.0.0.1:{ep.port}", "--only-summary", "--loglevel", "ERROR"]  # fmt: skip
    return measure(cmd, ep, 4.0, seconds)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rates", default="1000,2000", help="operator actions/s offered")
    ap.add_argument("--seconds", type=float, default=10.0, help="measured window of each run")
    a = ap.parse_args()
    ep = Endpoint([CAMERA])
    try:
        print(f"{'load':<28} {'req/s':>7} {'CPU %':>6} {'req/s/core':>10} {'lag p99':>8} "
              f"{'late':>6} {'dropped':>7} {'failed':>6} {'loadavg':>7}")  # fmt: skip
        per_core: dict[str, float] = {}
        rates = [float(r) for r in a.rates.split(",")]
        with tempfile.TemporaryDirectory() as td:
            tmp = Path(td)
            for rate in rates:
                r = operator_run(rate, a.seconds, ep, tmp)
                per_core[f"operator {rate:g}"] = _row(f"operator user @ {rate:g}/s", r)
            for kind in ("FastHttpUser", "HttpUser"):
                per_core[kind] = _row(f"plain Locust {kind}", plain_run(kind, a.seconds, ep, tmp))
            for rate in rates:
                r = plain_run("FastHttpUser", a.seconds, ep, tmp, rate)
                per_core[f"paced {rate:g}"] = _row(f"plain FastHttpUser @ {rate:g}/s", r)
        fast = per_core["FastHttpUser"]
        for rate in rates:
            v = per_core[f"operator {rate:g}"]
            print(
                f"operator user @ {rate:g}/s: {v / fast:.2f} x plain FastHttpUser per core "
                f"(closed loop), {v / per_core[f'paced {rate:g}']:.2f} x at the same rate"
            )
    finally:
        ep.stop()


def _row(name: str, r: dict[str, float]) -> float:
    rps, share = r["requests"] / r["wall"], r["cpu"] / r["wall"]
    per_core = r["requests"] / max(r["cpu"], 1e-9)
    extra = (f"{r['lag_p99_ms']:7.1f}m {r['late']:6d} {r['dropped']:7d} {r['failed']:6d}"
             if "late" in r else f"{'':8} {'':6} {'':7} {'':6}")  # fmt: skip
    print(f"{name:<28} {rps:7.0f} {100 * share:6.0f} {per_core:10.0f} {extra} "
          f"{r['load']:7.2f}")  # fmt: skip
    return per_core


if __name__ == "__main__":
    main()
