"""The target with the run's cameras in it. ZoneMinder and REST targets take cameras through
their API; motion takes them only from its configuration, so for motion the lab writes one
and runs motion itself, beside the generator, under the same supervision."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from simulator.lab.processes import end, tied
from simulator.streams.records import CameraRow

MOTION_MOVIE_S = 60  # one movie a minute: motion's own default for continuous recording
MOTION_READY_S = 30.0


class AttachError(RuntimeError):
    """The target did not take the run's cameras."""


@dataclass
class Attached:
    """The target's adapter and which of its cameras is which of the run's."""

    target: Any
    ids: dict[str, str] = field(default_factory=dict)  # camsim camera id → target id
    facts: dict[str, Any] = field(default_factory=dict)  # for reopen() after the run
    proc: subprocess.Popen | None = None  # the target, when the lab runs it

    def close(self, keep: bool) -> None:
        """Take the cameras out again (unless keep); stop a target the lab started."""
        if self.proc is not None:
            end(self.proc)
        elif not keep:
            remove_cameras(self.target, self.ids.values())


def register(target: Any, cameras: list[CameraRow], mapping: str | None) -> Attached:
    """Add the cameras (`camsim serve`'s /api/cameras rows) to a target through its API."""
    attached = Attached(target, facts={"mapping": mapping})
    try:
        for cam in cameras:
            main = cam.main
            attached.ids[cam.id] = target.add_camera(
                cam.id, main.url, main.width, main.height, main.fps
            )
    except BaseException:  # none of them stays behind
        remove_cameras(target, attached.ids.values())
        raise
    return attached


def open_target(kind: str, host: str, user: str | None, password: str | None,
                mapping: str | None = None) -> Any:  # fmt: skip
    """The adapter for `kind` on `host` (the load tests' own factory), logged in."""
    from simulator.targets import FastClient
    from simulator.targets.factory import make_target

    target = make_target(kind, FastClient(), host, user=user, password=password, mapping=mapping)
    target.login()
    return target


def reopen(kind: str, host: str, user: str | None, password: str | None,
           facts: dict[str, Any]) -> Any:  # fmt: skip
    """The adapter again after the run, to read what it recorded (motion: its files)."""
    if kind == "motion":
        return _motion(host, facts["stream"], Path(facts["dir"]))
    return open_target(kind, host, user, password, facts.get("mapping"))


def remove_cameras(target: Any, target_ids: Iterable[str]) -> None:
    """Take the run's cameras out of the target again."""
    for tid in target_ids:
        # cleaning up: the run's outcome stands whatever the target says now
        with contextlib.suppress(Exception):
            target.remove_camera(tid)


def motion_host(host: str | None) -> str:
    """Where the lab's motion answers: the port of --host, or a free one (loopback only)."""
    if host:
        return host
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def _motion(host: str, stream: str, directory: Path) -> Any:
    from simulator.targets import FastClient
    from simulator.targets.motion import Motion

    return Motion(FastClient(), host, stream, directory / "movies", directory / "motion.log")


def start_motion(host: str, cameras: list[CameraRow], directory: Path) -> Attached:
    """motion with one camera per served camera (ids 1…N, named as camsim names them)."""
    from simulator.targets import TargetError
    from simulator.targets.motion_config import MotionCamera, MotionConfig

    web = urlsplit(host).port
    if web is None:
        raise AttachError(f"--host {host}: motion's webcontrol URL needs a port")
    stream_port = int(motion_host(None).rsplit(":", 1)[1])
    cams = []
    for i, cam in enumerate(cameras, start=1):
        main = cam.main
        cams.append(MotionCamera(i, main.url, main.width, main.height, main.fps,
                                 name=cam.id))  # fmt: skip
    conf = MotionConfig(cams, web, stream_port, movie_s=MOTION_MOVIE_S).write(directory)
    log = open(directory / "stdout.log", "w", encoding="utf-8")  # noqa: SIM115
    proc = subprocess.Popen(tied(["motion", "-n", "-c", str(conf)]), stdout=log,
                            stderr=subprocess.STDOUT)  # fmt: skip
    log.close()
    stream = f"http://127.0.0.1:{stream_port}"
    target = _motion(host, stream, directory)
    attached = Attached(target, {c.id: str(i) for i, c in enumerate(cameras, start=1)},
                        {"stream": stream, "dir": str(directory)}, proc)  # fmt: skip
    deadline = time.monotonic() + MOTION_READY_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AttachError(f"motion ended at once (exit {proc.returncode}); see {directory}")
        with contextlib.suppress(TargetError):
            if target.health()["cameras"] == len(cams):
                return attached
        time.sleep(0.5)
    end(proc)
    raise AttachError(f"motion's webcontrol at {host} did not answer in {MOTION_READY_S:g} s")
