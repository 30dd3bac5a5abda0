"""`camsim loadtest` takes its Locust process with it when it is killed, as the lab's load
is when the lab dies (the benchmarks' stub VMS as the target)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from tests.conftest import loadtest_on_stub, process_tree


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_locust_ends_when_camsim_loadtest_is_killed(tmp_path: Path) -> None:
    with loadtest_on_stub(tmp_path) as load:
        deadline = time.monotonic() + 120
        while not (locust := process_tree(load.pid)[1:]) and load.poll() is None:
            assert time.monotonic() < deadline, "camsim loadtest started no Locust in 120 s"
            time.sleep(0.5)
        assert locust, f"camsim loadtest ended (exit {load.returncode}) before Locust started"
        os.kill(load.pid, signal.SIGKILL)
        load.wait(10)
        deadline = time.monotonic() + 15
        while _alive(locust[0]) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _alive(locust[0]), "Locust outlived camsim loadtest"
