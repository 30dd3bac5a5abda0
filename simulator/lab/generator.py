"""The stream generator under the lab's supervision: a `camsim serve` child process, its
ready line, and what its control API says it sent, interval by interval."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simulator.lab.ledger import Sent
from simulator.lab.processes import end, tied
from simulator.streams.records import CameraRow, ReadyLine, cameras_from_json

#: A stream's counters in /api/cameras that the ledger keeps per interval.
COUNTERS = ("frames_sent", "bytes_sent", "late_skips", "fault_drops", "frames_due",
            "target_drops")  # fmt: skip
READY_TIMEOUT_S = 600.0  # a cold clip cache for a whole city takes about a minute


class GeneratorError(RuntimeError):
    """The stream generator did not start or stopped answering."""


@dataclass
class Generator:
    """A running `camsim serve` and the counters last read from it."""

    proc: subprocess.Popen
    ready: ReadyLine
    log: Path
    last: dict[tuple[str, str], dict[str, int]] = field(default_factory=dict)
    last_t: float = 0.0
    seen_seq: int = 0  # the last applied event read from /api/timeline
    missed: int = 0  # applied events that fell out of the API's window before being read
    last_buckets: list[tuple[float, int]] = field(default_factory=list)
    last_cameras: list[CameraRow] = field(default_factory=list)  # as interval() read them

    @classmethod
    def start(cls, args: list[str], log: Path) -> Generator:
        """Start `camsim serve ARGS` and wait for its ready line."""
        cmd = [sys.executable, "-m", "simulator.cli", "serve", *args, "--quiet"]
        with open(log, "w", encoding="utf-8") as err:  # the child writes to it
            proc = subprocess.Popen(tied(cmd), stdout=subprocess.PIPE, stderr=err)
        assert proc.stdout is not None
        for line in _lines(proc.stdout.fileno(), time.monotonic() + READY_TIMEOUT_S):
            if line.startswith(b"{"):
                data = json.loads(line)
                if ReadyLine.is_ready(data):
                    g = cls(proc, ReadyLine.from_dict(data), log)
                    g.last_t = time.time()
                    return g
        proc.kill()
        proc.wait(5)
        tail = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-1:]
        raise GeneratorError(f"camsim serve did not start: {' '.join(tail) or 'no output'}")

    def get(self, path: str, timeout: float = 10.0) -> Any:
        url = self.ready.api.rstrip("/") + path
        try:
            with urllib.request.urlopen(url, timeout=timeout) as r:
                body = r.read()
        except OSError as exc:
            raise GeneratorError(f"camsim serve's API did not answer {path}: {exc}") from None
        return body.decode() if path == "/metrics" else json.loads(body)

    def cameras(self) -> list[CameraRow]:
        """The cameras it serves, their streams and counters (GET /api/cameras)."""
        return cameras_from_json(self.get("/api/cameras"))

    def interval(self) -> list[Sent]:
        """What each stream sent since the last call."""
        now = time.time()
        out = []
        self.last_cameras = self.cameras()
        for cam in self.last_cameras:
            for name, s in cam.streams.items():
                key = (cam.id, name)
                before = self.last.get(key, {})
                counts = {k: int(getattr(s, k)) for k in COUNTERS}
                self.last[key] = counts
                d = {k: counts[k] - before.get(k, 0) for k in COUNTERS}
                out.append(Sent(cam.id, name, self.last_t, now, d["frames_sent"],
                                d["bytes_sent"], int(s.clients), d["late_skips"],
                                d["fault_drops"], d["frames_due"], d["target_drops"],
                                int(s.unsent_bytes)))  # fmt: skip
        self.last_t = now
        return out

    def applied(self) -> list[dict[str, Any]]:
        """Timeline events applied since the last call (counting any missed)."""
        t = self.get("/api/timeline")
        new = [a for a in t["applied"] if a["seq"] > self.seen_seq]
        if new and new[0]["seq"] > self.seen_seq + 1:
            self.missed += new[0]["seq"] - self.seen_seq - 1
        self.seen_seq = max([self.seen_seq, *(a["seq"] for a in new)])
        return new

    def lateness(self) -> tuple[float, float]:
        """The generator's p99 frame send lateness (bucket bounds, s) over the last interval
        and over the whole run, from its /metrics histogram."""
        buckets: list[tuple[float, int]] = []
        for line in self.get("/metrics").splitlines():
            if line.startswith("camsim_frame_send_lateness_seconds_bucket"):
                le = line.split('le="')[1].split('"')[0]
                n = int(float(line.split()[-1]))
                buckets.append((float("inf") if le == "+Inf" else float(le), n))
        before = dict(self.last_buckets)
        self.last_buckets = buckets
        delta = [(le, n - before.get(le, 0)) for le, n in buckets]
        return _p99(delta), _p99(buckets)

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body or {}).encode()
        req = urllib.request.Request(self.ready.api.rstrip("/") + path, data, method="POST")
        req.add_header("Authorization", f"Bearer {self.ready.token}")  # the ready line's
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return json.loads(r.read())
        except OSError as exc:
            raise GeneratorError(f"camsim serve's API did not take {path}: {exc}") from None

    def start_replay(self) -> None:
        """Start the timeline (the generator was started with --wait-start)."""
        self.post("/api/timeline/start")

    def inject(self, camera: str, body: dict[str, Any]) -> None:
        """A fault on one camera now (the control API's form)."""
        self.post(f"/api/cameras/{camera}/faults", body)

    def stop(self) -> None:
        end(self.proc, signal.SIGINT, 30.0)  # serve's Ctrl-C path closes its sessions

    @property
    def pid(self) -> int:
        return self.proc.pid


def _lines(fd: int, deadline: float) -> Iterator[bytes]:
    """The lines a child writes to `fd` until it closes it or `deadline` (monotonic) passes:
    a child that hangs silent is given up on, not waited for."""
    pending = b""
    while (left := deadline - time.monotonic()) > 0:
        readable, _, _ = select.select([fd], [], [], left)
        if not readable:
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            return
        *whole, pending = (pending + chunk).split(b"\n")
        yield from whole


def _p99(cumulative: list[tuple[float, int]]) -> float:
    """The upper bound of the bucket holding the 99th percentile (0 when empty)."""
    if not cumulative or cumulative[-1][1] <= 0:
        return 0.0
    total = cumulative[-1][1]
    return next(le for le, n in cumulative if n >= 0.99 * total)
