"""Fixtures for the ONVIF tests: the tiny cameras served once, as ONVIF devices, on 127.0.0.1.

One event loop in a thread runs two servers for the whole session: `onvif` asks for no
credentials, `onvif_guarded` wants user `admin`, password `s3cret` (WS-UsernameToken for SOAP,
HTTP Digest for snapshots). Discovery answers unicast probes on a free port. Each has the
control API of `camsim serve` (faults are injected through it, with its bearer token).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from simulator.model.city import City
from simulator.onvif.server import OnvifDevices, OnvifOptions
from simulator.scenario import load_scenario
from simulator.streams.api import start_api
from simulator.streams.http import ApiAuth
from simulator.streams.server import CameraServer, ServeOptions
from tests.streams.conftest import TINY, LoopThread

USER, PASSWORD = "admin", "s3cret"


@dataclass
class Onvif:
    """Served cameras and their ONVIF side."""

    cameras: CameraServer
    devices: OnvifDevices
    thread: LoopThread
    api: Any = None  # the control API's listener
    api_port: int = 0
    token: str = ""  # the control API's bearer token

    def port(self, camera: str) -> int:
        dev = self.devices.device(camera)
        assert dev is not None
        return dev.port

    def call(self, fn: Any, *args: Any) -> Any:
        return self.thread.call(fn, *args)


@pytest.fixture(scope="session")
def onvif_loop() -> Iterator[LoopThread]:
    t = LoopThread()
    yield t
    t.close()


def _start(thread: LoopThread, clips: Path, scenario: Path = TINY,
           discovery_port: int | None = 0, **kw: Any) -> Onvif:  # fmt: skip
    """Serve a scenario's cameras as ONVIF devices with the control API (`kw`: ServeOptions)."""
    opts = ServeOptions(rtsp_port=0, cache_dir=clips, loop_seconds=2.0, progress=False, **kw)
    city = City.of(load_scenario(scenario))
    cameras = CameraServer(city, city.select(), opts)
    cameras.build_clips()
    opts_onvif = OnvifOptions(port=0, discovery_port=discovery_port, multicast=False)
    devices = OnvifDevices(cameras, opts_onvif)
    auth = ApiAuth.new("127.0.0.1")

    async def start() -> tuple[Any, int]:
        await cameras.start()
        await devices.start()
        return await start_api(cameras, "127.0.0.1", 0, auth)

    api, port = thread.run(start())
    return Onvif(cameras, devices, thread, api, port, auth.token)


def _stop(o: Onvif) -> None:
    async def stop() -> None:
        o.api.close()
        await o.devices.stop()
        await o.cameras.stop()

    o.thread.run(stop())


@pytest.fixture(scope="session")
def onvif_clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("onvif-clips")


@pytest.fixture(scope="session")
def onvif(onvif_loop: LoopThread, onvif_clips: Path) -> Iterator[Onvif]:
    """The tiny cameras as ONVIF devices, no credentials."""
    o = _start(onvif_loop, onvif_clips)
    yield o
    _stop(o)


@pytest.fixture(scope="session")
def onvif_guarded(onvif_loop: LoopThread, onvif_clips: Path) -> Iterator[Onvif]:
    """The same cameras wanting admin / s3cret."""
    o = _start(onvif_loop, onvif_clips, user=USER, password=PASSWORD)
    yield o
    _stop(o)
