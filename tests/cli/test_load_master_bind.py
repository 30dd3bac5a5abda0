"""`camsim loadtest --processes 2`: Locust's master listens for its workers on 127.0.0.1 only
(the benchmarks' stub VMS as the target)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from simulator.lab.processes import children

ROOT = Path(__file__).parents[2]
STUB = ROOT / "benchmarks" / "stub_vms.py"
MAPPING = ROOT / "benchmarks" / "data" / "stub-vms.yaml"
MASTER_PORT = 5557


def _tree(pid: int) -> list[int]:
    """A process and all its descendants."""
    kids = children()
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += kids.get(p, [])
    return out


def _socket_inodes(pids: list[int]) -> set[str]:
    inodes = set()
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if link.startswith("socket:["):
                inodes.add(link[8:-1])
    return inodes


def _listening(port: int, inodes: set[str]) -> list[str]:
    """Local addresses (hex, as /proc/net/tcp* writes them) of the listening sockets on
    `port` among `inodes`."""
    out = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            next(f)
            for row in f:
                cols = row.split()
                addr, hexport = cols[1].rsplit(":", 1)
                if cols[3] == "0A" and int(hexport, 16) == port and cols[9] in inodes:
                    out.append(addr)
    return out


def test_locust_master_listens_on_loopback_only(tmp_path: Path) -> None:
    stub = subprocess.Popen([sys.executable, str(STUB)], stdout=subprocess.PIPE, text=True)
    load = None
    try:
        assert stub.stdout is not None
        url = stub.stdout.readline().strip()
        for cam in ("labload-001", "labload-002"):  # the schedule's cameras, in the target
            body = json.dumps({"name": cam, "url": f"rtsp://127.0.0.1:1/{cam}"}).encode()
            urllib.request.urlopen(urllib.request.Request(f"{url}/cameras", body), timeout=10)
        load = subprocess.Popen(
            [sys.executable, "-m", "simulator.cli", "loadtest", "tests/data/lab-load.yaml",
             "--target", "rest", "--host", url, "--mapping", str(MAPPING), "--run-time", "120s",
             "--processes", "2", "--summary", str(tmp_path / "summary.json")],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 120
        addrs: list[str] = []
        while not addrs and load.poll() is None:
            assert time.monotonic() < deadline, "no Locust master listening within 120 s"
            time.sleep(0.5)
            addrs = _listening(MASTER_PORT, _socket_inodes(_tree(load.pid)))
        assert addrs, f"camsim loadtest ended (exit {load.returncode}) before its master listened"
        assert set(addrs) == {"0100007F"}, addrs  # 127.0.0.1, and nothing else
    finally:
        if load is not None and load.poll() is None:
            for pid in reversed(_tree(load.pid)):
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            load.wait(10)
        stub.terminate()
        stub.wait(10)
