"""Benchmark of `camsim lab`'s own cost: the harness for N cameras against `camsim serve` alone.

(a) `camsim serve SCENARIO --cameras N` alone, one reader per camera's main stream
    (bench_streams.py's readers, in their own process), for T seconds;
(b) the same cameras through `camsim lab SCENARIO --target rest` against the stub VMS
    (benchmarks/stub_vms.py, its own process: not counted), with the same readers on the
    generator's streams, the scenario's operators' load and the ledger, for T seconds once
    the lab's window has started and W seconds more have passed.

Prints the CPU (% of one core, from CPU seconds in /proc over the window) of serve alone, of
serve, camsim lab and camsim loadtest (with its Locust children) in the lab, and the harness's
share added over serve alone (goal <= 10 %); then the ledger's size per camera-day (goal <= 1
MB) once the lab has ended. Serve alone runs without the timeline's faults (--no-faults);
in the lab the scenario's timeline plays at speed 1 (a few events in a few minutes). The
stub records nothing, so the lab's verdict shows every camera as a gap: expected here.

Full run:   python benchmarks/bench_lab.py                      (450 Strasbourg cameras)
Quick run:  python benchmarks/bench_lab.py --cameras 20 --seconds 20 --warmup 5
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import tempfile
import time
from pathlib import Path

from bench_streams import _reader, p99_from, start_server
from lab_under_test import LabUnderTest, ledger_checks

from simulator.lab import processes
from simulator.streams.clipcache import default_cache_dir


def serve_alone(scenario: str, cameras: int, seconds: float,
                warmup: float) -> tuple[float, float]:  # fmt: skip
    """CPU % of one core of `camsim serve` alone with one reader per camera, and its p99
    frame send lateness (ms, bucket bound) over the window."""
    server = start_server(Path(scenario), default_cache_dir(), ["--cameras", str(cameras)])
    stop, out, ready = mp.Event(), mp.Queue(), mp.Event()
    try:
        import json
        import urllib.request

        with urllib.request.urlopen(f"http://127.0.0.1:{server.api_port}/api/cameras") as r:
            ids = [c["id"] for c in json.loads(r.read())]
        paths = [f"{i}/main" for i in ids]
        reader = mp.Process(target=_reader,
                            args=(server.rtsp_port, paths, "tcp", ready, stop, out))  # fmt: skip
        reader.start()
        if not ready.wait(120):
            raise RuntimeError("readers did not connect")
        time.sleep(warmup)
        m0 = server.metrics()
        cpu = cpu_pct({"serve": server.proc.pid}, seconds)["serve"]
        return cpu, p99_from(m0, server.metrics())
    finally:
        stop.set()
        server.stop()


def cpu_pct(pids: dict[str, int], seconds: float, trees: tuple[str, ...] = ()) -> dict[str, float]:
    """CPU % of one core of each process (with its descendants if named in `trees`) over the
    next `seconds`: CPU seconds from /proc over wall seconds."""

    def now() -> dict[str, float]:
        out = {}
        for name, pid in pids.items():
            u = processes.tree(pid) if name in trees else processes.usage(pid)
            out[name] = u.cpu_s if u is not None else float("nan")
        return out

    c0, t0 = now(), time.monotonic()
    time.sleep(seconds)
    c1, t1 = now(), time.monotonic()
    return {n: 100 * (c1[n] - c0[n]) / (t1 - t0) for n in pids}


def in_lab(scenario: str, cameras: int, seconds: float, warmup: float,
           out: Path) -> tuple[dict[str, float], dict[str, float]]:  # fmt: skip
    """CPU % of each harness process in a lab run, and the ledger's checks after it."""
    run = LabUnderTest.start(scenario, cameras, warmup + seconds + 10, out)
    try:
        run.wait_started()
        time.sleep(warmup)
        cpu = cpu_pct(run.pids(), seconds, trees=("camsim loadtest",))
        run.wait(warmup + seconds + 900)
    finally:
        run.stop()
    return cpu, ledger_checks(out)


STRAIGHTFORWARD_SENT = """CREATE TABLE sent (
    camera TEXT NOT NULL, stream TEXT NOT NULL, t0 REAL NOT NULL, t1 REAL NOT NULL,
    frames INTEGER NOT NULL, bytes INTEGER NOT NULL, sessions INTEGER NOT NULL,
    late_skips INTEGER NOT NULL, fault_drops INTEGER NOT NULL, due INTEGER NOT NULL,
    target_drops INTEGER NOT NULL, unsent_bytes INTEGER NOT NULL,
    PRIMARY KEY (camera, stream, t0))"""


def ledger_in_process(cameras: int, intervals: int, tmp: Path) -> list[tuple[str, float, float]]:
    """The ledger's `sent` rows for `cameras` (main stream played, sub idle) over `intervals`
    of 10.2 s: MB per camera-day and ms of CPU per interval written, for the Ledger and for
    the straightforward table (a row per stream and interval, keyed by camera first)."""
    import sqlite3

    from simulator.lab.ledger import Ledger, Sent

    out = []
    for name in ("Ledger", "straightforward"):
        path = tmp / f"{name}.sqlite"
        ledger = Ledger(path) if name == "Ledger" else None
        db = ledger.db if ledger else sqlite3.connect(path, isolation_level=None)
        if ledger is None:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(STRAIGHTFORWARD_SENT)
        t, cpu = 1.79e9, 0.0
        for _ in range(intervals):
            sent = [Sent(f"cam-{i:03d}", st, t, t + 10.2, 255 * (st == "main"),
                         5_000_000 * (st == "main") + i, int(st == "main"))
                    for i in range(cameras) for st in ("main", "sub")]  # fmt: skip
            c0 = time.process_time()
            if ledger is not None:
                ledger.record(sent=sent)
            else:
                db.execute("BEGIN")
                db.executemany("INSERT OR REPLACE INTO sent VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                               [tuple(s.__dict__.values()) for s in sent])  # fmt: skip
                db.execute("COMMIT")
            cpu += time.process_time() - c0
            t += 10.2
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.close()
        per_day = path.stat().st_size / (cameras * intervals * 10.2 / 86400)
        out.append((name, per_day / 1e6, 1000 * cpu / intervals))
    return out


def api_reads_in_process(scenario: str, cameras: int) -> tuple[float, float, float]:
    """CPU ms `camsim serve` spends, on its event loop, on each interval's reads by the lab:
    GET /api/cameras and /metrics; and /api/cameras the straightforward way (each clip's
    size summed over its frames on every call, as before it was kept)."""
    import asyncio
    import statistics

    from simulator.cli.common import load
    from simulator.model.city import City
    from simulator.streams import encoder
    from simulator.streams.api import cameras_json, metrics_text
    from simulator.streams.server import CameraServer, ServeOptions

    city = City.of(load(scenario, (), None, None))
    opts = ServeOptions(rtsp_port=0, progress=False)
    server = CameraServer(city, city.select(str(cameras)), opts)
    server.build_clips()

    def ms(fn) -> float:  # noqa: ANN001
        runs = []
        for _ in range(5):
            c0 = time.process_time()
            fn(server)
            runs.append(time.process_time() - c0)
        return 1000 * statistics.median(runs)

    async def measure() -> tuple[float, float, float]:
        await server.start()
        try:
            kept, metrics = ms(cameras_json), ms(metrics_text)
            cached = encoder.Clip.nbytes
            encoder.Clip.nbytes = property(lambda c: sum(len(u) for f in c.frames for u in f))
            try:
                return kept, metrics, ms(cameras_json)
            finally:
                encoder.Clip.nbytes = cached
        finally:
            await server.stop()

    return asyncio.run(measure())


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--scenario", default="scenarios/strasbourg.yaml")
    ap.add_argument("--cameras", type=int, default=450)
    ap.add_argument("--seconds", type=float, default=120.0, help="measurement window T")
    ap.add_argument("--warmup", type=float, default=20.0, help="W, before each window")
    ap.add_argument("--out", type=Path, default=Path("out/bench-lab"))
    args = ap.parse_args()

    print(f"# camsim lab overhead: {args.cameras} cameras of {args.scenario}, one reader per "
          f"main stream, {args.seconds:g} s windows, {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f}", flush=True)  # fmt: skip
    with tempfile.TemporaryDirectory() as td:
        rows = ledger_in_process(args.cameras, 360, Path(td))
    (_, mb, ms), (_, mb0, ms0) = rows
    print(f"ledger sent rows in process, {args.cameras} cameras x 360 intervals: {mb:.2f} MB "
          f"per camera-day, {ms:.1f} ms CPU per interval; straightforward table {mb0:.2f} MB, "
          f"{ms0:.1f} ms ({mb0 / mb:.1f}x the size)", flush=True)  # fmt: skip
    cams_ms, metrics_ms, straight_ms = api_reads_in_process(args.scenario, args.cameras)
    print(f"serve's work for the lab's reads each interval, in process: GET /api/cameras "
          f"{cams_ms:.1f} ms CPU (summing each clip's size on every call: {straight_ms:.1f} ms, "
          f"{straight_ms / cams_ms:.1f}x), /metrics {metrics_ms:.1f} ms", flush=True)  # fmt: skip
    alone, p99 = serve_alone(args.scenario, args.cameras, args.seconds, args.warmup)
    print(f"(a) camsim serve alone: {alone:.1f} % of one core, p99 send lateness {p99:g} ms "
          f"(load average {os.getloadavg()[0]:.1f})", flush=True)  # fmt: skip
    cpu, checks = in_lab(args.scenario, args.cameras, args.seconds, args.warmup, args.out)
    harness = sum(v for n, v in cpu.items() if n != "camsim serve")
    total = sum(cpu.values())
    print("(b) in camsim lab: " + ", ".join(f"{n} {v:.1f} %" for n, v in cpu.items())
          + f"; all {total:.1f} % (load average {os.getloadavg()[0]:.1f})")  # fmt: skip
    print(
        f"harness added over serve alone: {100 * (total - alone) / alone:+.1f} % "
        f"(lab + loadtest alone: {100 * harness / alone:.1f} % of serve alone; goal <= 10 %)"
    )
    print(f"(b) generator's p99 send lateness per interval in the lab (ledger): median "
          f"{checks['lateness_p99_median_s'] * 1000:g} ms, worst "
          f"{checks['lateness_p99_max_s'] * 1000:g} ms")  # fmt: skip
    print(f"ledger: {checks['bytes'] / 2**20:.2f} MB over {checks['window_s']:.0f} s = "
          f"{checks['bytes_per_camera_day'] / 1e6:.2f} MB per camera-day (goal <= 1); cameras "
          f"with a missing interval: {checks['cameras_with_missing_intervals']}")  # fmt: skip


if __name__ == "__main__":
    main()
