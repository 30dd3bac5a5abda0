"""A `camsim lab` run against the stub VMS, with one reader per camera on the generator's
streams: what benchmarks/bench_lab.py and bench_soak.py measure.

The stub (benchmarks/stub_vms.py) takes the cameras but never pulls their streams, so the
readers (bench_streams.py's, in their own process) stand in for the VMS's recorders.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import sqlite3
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import stub_vms
from bench_streams import _reader

from simulator.lab import processes


@dataclass
class LabUnderTest:
    """The stub, `camsim lab` (with its `camsim serve` and `camsim loadtest`) and the readers."""

    stub: subprocess.Popen
    lab: subprocess.Popen
    out: Path
    ready: dict = field(default_factory=dict)  # the generator's ready line
    reader: mp.Process | None = None
    stop_readers: mp.Event = field(default_factory=mp.Event)
    received: mp.Queue = field(default_factory=mp.Queue)

    @classmethod
    def start(cls, scenario: str, cameras: int, duration_s: float, out: Path,
              extra: tuple[str, ...] = ()) -> LabUnderTest:  # fmt: skip
        """Start the stub and the lab, wait for the generator, attach the readers."""
        out.mkdir(parents=True, exist_ok=True)
        (out / "ledger.sqlite").unlink(missing_ok=True)
        stub, url = stub_vms.start()
        cmd = [sys.executable, "-m", "simulator.cli", "lab", scenario, "--target", "rest",
               "--host", url, "--mapping", str(stub_vms.MAPPING), "--cameras", str(cameras),
               "--duration", f"{duration_s:g}s", "--out", str(out), *extra]  # fmt: skip
        with open(out / "lab.out", "w", encoding="utf-8") as log:
            lab = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        run = cls(stub, lab, out)
        run.ready = run._wait_fact("generator", 900)
        run._attach()
        return run

    def _wait_fact(self, key: str, timeout_s: float) -> dict:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.lab.poll() is not None:
                tail = (self.out / "lab.out").read_text().strip().splitlines()[-3:]
                raise RuntimeError(f"camsim lab ended (exit {self.lab.returncode}): {tail}")
            value = self.fact(key)
            if value is not None:
                return value
            time.sleep(1)
        raise RuntimeError(f"camsim lab wrote no {key!r} fact in {timeout_s:g} s")

    def fact(self, key: str) -> object:
        """One of the ledger's run facts (None until written)."""
        path = self.out / "ledger.sqlite"
        if not path.exists():
            return None
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
        try:
            row = db.execute("SELECT value FROM run WHERE key = ?", (key,)).fetchone()
        except sqlite3.OperationalError:  # the schema is not there yet
            return None
        finally:
            db.close()
        return None if row is None else json.loads(row[0])

    def _attach(self) -> None:
        with urllib.request.urlopen(self.ready["urls"], timeout=30) as r:
            cams = json.loads(r.read())
        urls = [urlsplit(c["streams"]["main"]["url"]) for c in cams]
        paths = [u.path.lstrip("/") for u in urls]
        ready = mp.Event()
        args = (urls[0].port, paths, "tcp", ready, self.stop_readers, self.received)
        self.reader = mp.Process(target=_reader, args=args)
        self.reader.start()
        if not ready.wait(120):
            raise RuntimeError("readers did not connect")

    def wait_started(self, timeout_s: float = 900) -> float:
        """When the lab's measured window started (after registering and its warm-up)."""
        return float(self._wait_fact("started", timeout_s))

    def pids(self) -> dict[str, int]:
        """The harness's processes: camsim serve, camsim lab and camsim loadtest."""
        out = {"camsim serve": int(self.ready.get("pid") or self.fact("generator_pid")),
               "camsim lab": self.lab.pid}  # fmt: skip
        load = loadtest_pid(self.lab.pid)
        if load is not None:
            out["camsim loadtest"] = load
        return out

    def usage(self) -> dict[str, processes.Usage]:
        """CPU seconds and RSS now: serve and lab alone, the load with its Locust children."""
        out = {}
        for name, pid in self.pids().items():
            u = processes.tree(pid) if name == "camsim loadtest" else processes.usage(pid)
            if u is not None:
                out[name] = u
        return out

    def wait(self, timeout_s: float) -> int:
        """Wait for the lab to end (its verdict written); its exit code."""
        return self.lab.wait(timeout_s)

    def stop(self) -> None:
        self.stop_readers.set()
        if self.reader is not None:
            self.reader.join(15)
            if self.reader.is_alive():
                self.reader.terminate()
        for p in (self.lab, self.stub):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(60)
                except subprocess.TimeoutExpired:
                    p.kill()


def loadtest_pid(lab_pid: int) -> int | None:
    """The `camsim loadtest` child of the lab (None before it starts or after it ends)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmd = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if int(stat[stat.rindex(")") + 2 :].split()[1]) == lab_pid and b"loadtest" in cmd:
            return int(entry.name)
    return None


def ledger_checks(out: Path, interval_s: float = 10.0) -> dict[str, float]:
    """The ledger's size and whether every camera has a `sent` row for every interval of
    the window [started, ended]: intervals chain (each starts where the last ended), cover
    the window, and none ending inside it is longer than 1.5 intervals (a sample that came
    late or never; the last one, read after the load's grace, may be longer)."""
    db = sqlite3.connect(f"file:{out / 'ledger.sqlite'}?mode=ro", uri=True)
    try:
        facts = {k: json.loads(v) for k, v in db.execute("SELECT key, value FROM run")}
        started, ended = facts["started"], facts["ended"]
        rows = db.execute("SELECT camera, t0, t1 FROM sent WHERE stream = 'main' "
                          "ORDER BY camera, t0").fetchall()  # fmt: skip
        cameras = [c for (c,) in db.execute("SELECT camera FROM cameras")]
        health = db.execute(
            "SELECT lateness_p99_s, frames_late FROM health "
            "WHERE process = 'camsim serve' AND t >= ?",
            (started,),
        ).fetchall()
        late = sorted(x for x, _ in health if x is not None)
    finally:
        db.close()
    by_cam: dict[str, list[tuple[float, float]]] = {c: [] for c in cameras}
    for cam, t0, t1 in rows:
        by_cam.setdefault(cam, []).append((t0, t1))
    broken, longest, counts = 0, 0.0, []
    for spans in by_cam.values():
        inside = [(t0, t1) for t0, t1 in spans if t1 > started and t0 < ended]
        counts.append(len(inside))
        ok = bool(inside) and inside[0][0] <= started + 1 and inside[-1][1] >= ended - 1
        for (_, a1), (b0, _) in zip(inside, inside[1:], strict=False):
            ok = ok and abs(b0 - a1) < 1e-6
        for t0, t1 in (s for s in inside if s[1] <= ended):
            longest = max(longest, t1 - t0)
            ok = ok and t1 - t0 <= 1.5 * interval_s
        broken += not ok
    size = (out / "ledger.sqlite").stat().st_size
    wal = out / "ledger.sqlite-wal"
    size += wal.stat().st_size if wal.exists() else 0
    days = (ended - started) / 86400
    return {
        "cameras": len(by_cam),
        "cameras_with_missing_intervals": broken,
        "intervals_min": min(counts, default=0),
        "intervals_max": max(counts, default=0),
        "longest_interval_s": longest,
        "bytes": size,
        "bytes_per_camera_day": size / (len(by_cam) * days) if by_cam and days else 0.0,
        "window_s": ended - started,
        "lateness_p99_median_s": late[len(late) // 2] if late else 0.0,
        "lateness_p99_max_s": late[-1] if late else 0.0,
        "frames_late": sum(n or 0 for _, n in health),  # frames the generator skipped late
    }
