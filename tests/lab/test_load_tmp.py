"""The lab's load keeps its temporary files (Locust's CSV, its log) in the run's directory:
a lab killed with SIGKILL leaves nothing in the system's temporary directory, and the next
start in the same directory clears what the killed one left."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from simulator.lab.load import Load, temp_dir

ROOT = Path(__file__).parents[2]
LAB_LOAD = ROOT / "tests" / "data" / "lab-load.yaml"
STUB = ROOT / "benchmarks" / "stub_vms.py"
MAPPING = ROOT / "benchmarks" / "data" / "stub-vms.yaml"

LAB = """
import sys, time
from pathlib import Path
from simulator.lab.load import Load
load = Load.start(sys.argv[2:], Path(sys.argv[1]))
print(load.proc.pid, flush=True)
time.sleep(600)
"""


def _until(what: str, check, timeout_s: float = 90.0):  # noqa: ANN001, ANN202
    deadline = time.monotonic() + timeout_s
    while not (got := check()):
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout_s:g} s")
        time.sleep(0.5)
    return got


def test_a_killed_lab_leaves_its_loads_temp_files_in_its_out_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    system_tmp = tmp_path / "system-tmp"  # what /tmp is to the lab
    system_tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(system_tmp))
    stub = subprocess.Popen([sys.executable, str(STUB)], stdout=subprocess.PIPE, text=True)
    try:
        assert stub.stdout is not None
        url = stub.stdout.readline().strip()
        for cam in ("labload-001", "labload-002"):
            body = json.dumps({"name": cam, "url": "rtsp://127.0.0.1/x"}).encode()
            urllib.request.urlopen(urllib.request.Request(f"{url}/cameras", body), timeout=10)
        out = tmp_path / "lab"
        out.mkdir()
        args = [str(LAB_LOAD), "--target", "rest", "--host", url, "--mapping", str(MAPPING),
                "--cameras", "2", "--speed", "60", "--run-time", "300s"]  # fmt: skip
        lab = subprocess.Popen([sys.executable, "-c", LAB, str(out), *args], cwd=ROOT,
                               stdout=subprocess.PIPE, text=True)  # fmt: skip
        assert lab.stdout is not None
        loadtest = int(lab.stdout.readline())
        # Locust is writing its CSV once the load's temporary directory holds it
        left = _until("Locust's CSV", lambda: list(temp_dir(out).glob("camsim-load-*/*.csv")))
        lab.send_signal(signal.SIGKILL)
        lab.wait(10)
        _until("the load ending with the lab", lambda: not Path(f"/proc/{loadtest}").exists())
        assert list(system_tmp.iterdir()) == []
        assert left[0].parent.exists()  # what the killed load left, in the run's directory
        # the next start in that directory clears it, and a load that ends leaves nothing
        again = Load.start(args, out)
        try:
            assert not left[0].parent.exists()
        finally:
            again.stop()
        assert not temp_dir(out).exists() and list(system_tmp.iterdir()) == []
    finally:
        stub.terminate()
        stub.wait(10)
