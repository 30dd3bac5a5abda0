"""`camsim loadtest` takes its Locust process with it when it is killed, as the lab's load
is when the lab dies (the benchmarks' stub VMS as the target)."""

from __future__ import annotations

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


def _children(pid: int) -> list[int]:
    return children().get(pid, [])


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_locust_ends_when_camsim_loadtest_is_killed(tmp_path: Path) -> None:
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
             "--summary", str(tmp_path / "summary.json")],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 120
        while not (locust := _children(load.pid)) and load.poll() is None:
            assert time.monotonic() < deadline, "camsim loadtest started no Locust in 120 s"
            time.sleep(0.5)
        assert locust, f"camsim loadtest ended (exit {load.returncode}) before Locust started"
        os.kill(load.pid, signal.SIGKILL)
        load.wait(10)
        deadline = time.monotonic() + 15
        while _alive(locust[0]) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _alive(locust[0]), "Locust outlived camsim loadtest"
    finally:
        if load is not None and load.poll() is None:
            load.kill()
        stub.terminate()
        stub.wait(10)
