"""Shared fixtures: small scenarios in tests/data/, loaded the way the CLI loads them; the real
systems under test and camsim cameras for them.

`zoneminder_url` and `setup_script` run the repo's idempotent setup scripts (installing and
starting ZoneMinder on 127.0.0.1:$ZM_PORT, root only): if one fails, the tests that need it fail
with its message. `camsim` serves two tiny RTSP cameras from a real `camsim serve` process.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from simulator.scenario import Scenario, load_scenario
from simulator.targets import FastClient

# The property-based tests draw the same examples on every run, so a red CI run reproduces
# (HYPOTHESIS_PROFILE=explore draws new ones, to look for more).
settings.register_profile("camsim", derandomize=True, print_blob=True)
settings.register_profile("explore", derandomize=False, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "camsim"))

# A process pool a library or a test opens spawns its workers: this process has threads (the
# servers' loops), and a fork of it can inherit a lock one of them held and hang (CI did, in a
# forked pool's worker).
multiprocessing.set_start_method("spawn", force=True)

ROOT = Path(__file__).parents[1]
TINY = ROOT / "tests" / "streams" / "tiny.yaml"
DATA = Path(__file__).parent / "data"
SCENARIOS = Path(__file__).parent.parent / "scenarios"


def load_data_scenario(name: str, *overrides: str) -> Scenario:
    """tests/data/<name>.yaml with `--set`-style overrides applied."""
    return load_scenario(DATA / f"{name}.yaml", overrides)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The directory of the small test scenarios."""
    return DATA


@pytest.fixture(scope="session")
def load() -> Callable[..., Scenario]:
    """load(name, "a.b=1", ...) → the scenario tests/data/<name>.yaml, overridden."""
    return load_data_scenario


def with_seed(scenario: Scenario, seed: int) -> Scenario:
    """The same scenario with another simulation.seed."""
    return scenario.model_copy(
        update={"simulation": scenario.simulation.model_copy(update={"seed": seed})}
    )


@pytest.fixture(scope="session")
def reseed() -> Callable[[Scenario, int], Scenario]:
    """reseed(scenario, seed) → the same scenario with another seed."""
    return with_seed


SETUP = Path(__file__).parent.parent / "simulator" / "targets" / "setup"
ZM_PORT = int(os.environ.get("ZM_PORT", "8089"))


def run_setup(script: str, timeout_s: float = 600) -> str:
    """Run simulator/targets/setup/<script>; fail the test with its message if it fails."""
    env = {**os.environ, "ZM_PORT": str(ZM_PORT)}
    run = subprocess.run(
        ["bash", str(SETUP / script)], capture_output=True, text=True, timeout=timeout_s, env=env
    )
    if run.returncode != 0:
        pytest.fail(f"{script} failed ({run.returncode}): {run.stderr.strip()[-2000:]}")
    return run.stdout.strip()


@pytest.fixture(scope="session")
def zoneminder_url() -> str:
    """The web root of a running ZoneMinder (http://127.0.0.1:$ZM_PORT/zm), from the repo's
    idempotent setup script (root only); if it fails, the tests that need it fail."""
    return run_setup("zoneminder.sh")


@pytest.fixture(scope="session")
def setup_script() -> Callable[[str], str]:
    """setup_script("motion.sh") runs simulator/targets/setup/<script> (failing the test
    with its message if it fails) and returns what it printed."""
    return run_setup


def camsim_command() -> list[str]:
    """`camsim` as users run it from a checkout."""
    return [sys.executable, "-m", "simulator.cli"]


@pytest.fixture(scope="session")
def motion_version(setup_script) -> str:  # noqa: ANN001
    """motion's version, installed if missing (it is started by the tests themselves)."""
    return setup_script("motion.sh")


class RecordingClient(FastClient):
    """A FastClient that remembers the request names it was given (bounded)."""

    def __init__(self) -> None:
        super().__init__(timeout_s=15)
        self.names: deque[str] = deque(maxlen=10_000)

    def request(self, method, url, *, name, **kw):
        self.names.append(name)
        return super().request(method, url, name=name, **kw)


@pytest.fixture
def http() -> Iterator[RecordingClient]:
    client = RecordingClient()
    yield client
    client.close()


class Camsim:
    """A `camsim serve` subprocess; its stderr drained into a bounded buffer."""

    def __init__(self, args: list[str], timeout_s: float = 120) -> None:
        self.proc = subprocess.Popen(
            [*camsim_command(), "serve", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            cwd=ROOT,
        )
        self.err: deque[str] = deque(maxlen=200)
        self.urls: list[str] = []
        self.cameras = 0
        banner = threading.Event()
        threading.Thread(target=self._drain_err, args=(banner,), daemon=True).start()
        if not banner.wait(timeout_s) or not self.cameras:
            self.stop()
            raise RuntimeError(f"camsim serve did not start: {''.join(self.err)[-1500:]}")
        assert self.proc.stdout is not None
        for line in self.proc.stdout:  # the URLs come before the banner, one camera a line
            self.urls.append(line.split()[0])
            if len(self.urls) == self.cameras:
                break
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()

    def _drain_err(self, banner: threading.Event) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.err.append(line)
            m = re.match(r"camsim serve: (\d+) cameras", line)
            if m:
                self.cameras = int(m.group(1))
                banner.set()
        banner.set()  # the process ended: let the waiter see it

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="session")
def camsim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Camsim]:
    """Two 320x180 H.264 cameras at 10 fps (tiny.yaml's h264cam-001/002), no faults."""
    cache = tmp_path_factory.mktemp("camsim-clips")
    server = Camsim(
        [
            str(TINY),
            "--cameras",
            "2",
            "--rtsp-port",
            "0",
            "--api-port",
            "0",
            "--no-faults",
            "--cache",
            str(cache),
            "--loop-seconds",
            "4",
        ]  # fmt: skip
    )
    try:
        yield server
    finally:
        server.stop()


def _wait_for(what: str, check, timeout_s: float, every_s: float = 1.0, until=bool):
    """Poll `check()` until `until(value)` holds and return the value; after the timeout fail
    naming `what` and the last value."""
    deadline = time.monotonic() + timeout_s
    while True:
        got = check()
        if until(got):
            return got
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout_s:g} s (last: {got!r})")
        time.sleep(every_s)


@pytest.fixture(scope="session")
def wait_for():
    """wait_for(what, check, timeout_s): poll `check()` until truthy, else fail naming `what`."""
    return _wait_for


STUB_VMS = ROOT / "benchmarks" / "stub_vms.py"


def process_tree(pid: int) -> list[int]:
    """A process and all its descendants, parents first (from /proc, as the lab reads it)."""
    from simulator.lab.processes import children

    kids = children()
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += kids.get(p, [])
    return out


@contextlib.contextmanager
def loadtest_on_stub(tmp_path: Path, *args: str) -> Iterator[subprocess.Popen]:
    """A running `camsim loadtest` of tests/data/lab-load.yaml (plus `args`) against the
    benchmarks' stub VMS with the schedule's two cameras in it; on leaving, the loadtest's
    whole process tree and the stub are killed."""
    stub = subprocess.Popen([sys.executable, str(STUB_VMS)], stdout=subprocess.PIPE, text=True)
    load = None
    try:
        assert stub.stdout is not None
        url = stub.stdout.readline().strip()
        for cam in ("labload-001", "labload-002"):
            body = json.dumps({"name": cam, "url": f"rtsp://127.0.0.1:1/{cam}"}).encode()
            urllib.request.urlopen(urllib.request.Request(f"{url}/cameras", body), timeout=10)
        mapping = ROOT / "benchmarks" / "data" / "stub-vms.yaml"
        load = subprocess.Popen(
            [*camsim_command(), "loadtest", "tests/data/lab-load.yaml", "--target", "rest",
             "--host", url, "--mapping", str(mapping), "--run-time", "120s",
             "--summary", str(tmp_path / "summary.json"), *args],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        yield load
    finally:
        if load is not None and load.poll() is None:
            for pid in reversed(process_tree(load.pid)):
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            load.wait(10)
        stub.terminate()
        stub.wait(10)
