"""Fixtures for the load users: a real slow HTTP server, a real `camsim serve`, the real
ZoneMinder with two monitors on camsim's cameras, and timelines of operators' actions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from simulator.timeline.event import Event

ROOT = Path(__file__).parents[3]
TINY = ROOT / "tests" / "streams" / "tiny.yaml"
SETUP = ROOT / "simulator" / "targets" / "setup" / "zoneminder.sh"
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}

SLOW_SERVER = r"""
import sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class H(BaseHTTPRequestHandler):
    def do_GET(self):
        time.sleep(float(sys.argv[1]))
        self.send_response(200); self.send_header("Content-Length", "2"); self.end_headers()
        self.wfile.write(b"ok")
    def log_message(self, *a): pass
ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer.request_queue_size = 1024
s = ThreadingHTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
"""


@pytest.fixture(scope="session")
def slow_server() -> Iterator[tuple[int, float]]:
    """(port, seconds): a threaded HTTP server on 127.0.0.1, in its own process, that takes
    2 s to answer every GET."""
    delay = 2.0
    proc = subprocess.Popen([sys.executable, "-c", SLOW_SERVER, str(delay)],
                            stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert proc.stdout is not None
        yield int(proc.stdout.readline()), delay
    finally:
        proc.terminate()
        proc.wait(10)


class Serve:
    """A `camsim serve` subprocess; its ready line read, its output drained (bounded)."""

    def __init__(self, args: list[str], timeout_s: float = 120) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "simulator.cli", "serve", *args, "--quiet"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV, cwd=ROOT,
        )  # fmt: skip
        self.err: deque[str] = deque(maxlen=100)
        threading.Thread(target=lambda: self.err.extend(self.proc.stderr), daemon=True).start()
        got: list[str] = []
        reader = threading.Thread(target=lambda: got.append(self.proc.stdout.readline()))
        reader.start()
        reader.join(timeout_s)
        if not got or not got[0].startswith("{"):
            self.stop()
            raise RuntimeError(f"camsim serve did not start: {''.join(self.err)[-1500:]}")
        self.ready = json.loads(got[0])
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()

    def url(self, camera: str, stream: str = "main") -> str:
        return f"rtsp://127.0.0.1:{self.ready['rtsp_port']}/{camera}/{stream}"

    def metrics(self) -> str:
        return requests.get(f"{self.ready['api']}metrics", timeout=10).text

    def frames_sent(self, camera: str, stream: str = "main") -> int:
        key = f'camsim_stream_frames_sent_total{{camera="{camera}",stream="{stream}"}} '
        for line in self.metrics().splitlines():
            if line.startswith(key):
                return int(float(line.split()[-1]))
        raise AssertionError(f"no {key} in /metrics")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()


@pytest.fixture(scope="session")
def serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serve]:
    """Two tiny H.264 cameras (320x180, 10 fps) with SEI, no faults."""
    cache = tmp_path_factory.mktemp("clips")
    server = Serve([str(TINY), "--cameras", "2", "--rtsp-port", "0", "--api-port", "0",
                    "--no-faults", "--cache", str(cache), "--loop-seconds", "2"])  # fmt: skip
    yield server
    server.stop()


@pytest.fixture(scope="session")
def zoneminder_root() -> str:
    """The web root of the real ZoneMinder the repo's setup script installs and starts."""
    run = subprocess.run(["bash", str(SETUP)], capture_output=True, text=True, timeout=900)
    if run.returncode != 0:
        pytest.fail(f"zoneminder.sh failed ({run.returncode}): {run.stderr.strip()[-1500:]}")
    return run.stdout.strip().splitlines()[-1]


CAMERAS = ("h264cam-001", "h264cam-002")


@pytest.fixture(scope="session")
def zoneminder_cameras(zoneminder_root: str, serve: Serve) -> Iterator[str]:
    """ZoneMinder recording camsim's two cameras (monitors named after them), until the
    session ends; yields the web root."""
    from simulator.targets import FastClient
    from simulator.targets.zoneminder import ZoneMinder

    zm = ZoneMinder(FastClient(), zoneminder_root)
    zm.login()
    for cam in zm.list_cameras():
        if cam.name in CAMERAS:
            zm.remove_camera(cam.target_id)
    ids = [zm.add_camera(c, serve.url(c), 320, 180, 10) for c in CAMERAS]
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        fps = {c.target_id: c.capture_fps or 0 for c in zm.list_cameras()}
        if all(fps.get(i, 0) > 0 for i in ids):
            break
        time.sleep(2)
    else:
        pytest.fail(f"ZoneMinder did not capture camsim's cameras within 90 s: {fps}")
    try:
        yield zoneminder_root
    finally:
        for i in ids:
            zm.delete_events(i)
            zm.remove_camera(i)


KINDS = (
    ("live_view", {"duration_s": 20.0, "operator": 0, "monitor": 1}),
    ("live_transfer", {"duration_s": 30.0, "operator": -1}),
    ("review", {"duration_s": 60.0, "operator": 1, "from_s": 0.0, "length_s": 60.0,
                "speed": 4.0}),
    ("export", {"duration_s": 60.0, "operator": 2, "from_s": 0.0, "length_s": 30.0}),
    ("alarm", {"duration_s": 30.0, "operator": 3}),
    ("incident_response", {"duration_s": 60.0, "operator": 1, "ptz_moves": 2}),
)  # fmt: skip


def actions_timeline(n: int, every_s: float, start_s: float = 30.0) -> list[Event]:
    """n actions of every kind in turn, on camsim's two cameras, one every `every_s`."""
    return [
        Event(start_s + i * every_s, KINDS[i % len(KINDS)][0], CAMERAS[i % 2],
              params=dict(KINDS[i % len(KINDS)][1]))
        for i in range(n)
    ]  # fmt: skip


@pytest.fixture
def write_timeline(tmp_path: Path):  # noqa: ANN201
    """write_timeline(events) → the path of a JSON Lines timeline holding them."""

    def write(events: list[Event]) -> Path:
        path = tmp_path / "actions.jsonl"
        path.write_text("".join(e.to_json() + "\n" for e in events))
        return path

    return write
