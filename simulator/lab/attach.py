"""The target with the run's cameras in it. ZoneMinder and REST targets take cameras through
their API; motion takes them only from its configuration, so for motion the lab writes one
and runs motion itself, beside the generator, under the same supervision. With
`--register onvif`, ZoneMinder takes them as its add-monitor ONVIF wizard adds them: its
own probe describes each camera's ONVIF device (`camsim serve --onvif`) and the monitor is
made from what the probe returned (`register_onvif`)."""

from __future__ import annotations

import contextlib
import os
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

    def merge(self, other: Attached) -> None:
        """Take in a later attach's cameras (a capacity step) and its probe's figures."""
        self.ids |= other.ids
        mine, theirs = self.facts.get("onvif"), other.facts.get("onvif")
        if mine is not None and theirs is not None:
            self.facts["onvif"] = {**theirs, "cameras": mine["cameras"] + theirs["cameras"]}

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


def onvif_ports(n: int) -> int:
    """The first of `n` consecutive free loopback ports, below the ephemeral range (where
    other processes' free ports come from), for `camsim serve --onvif-port`."""
    start = 20000 + os.getpid() % 97 * 100
    for first in [*range(start, 32000 - n, 101), *range(20000, start, 101)]:
        if all(_free(p) for p in range(first, first + n)):
            return first
    raise AttachError(f"--register onvif: no {n} consecutive free ports in 20000-32000")


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def device_urls(cameras: list[CameraRow], first_port: int) -> dict[str, str]:
    """Each served camera's ONVIF device service (`camsim serve --onvif-port P`: the i-th
    camera it serves answers on P + i)."""
    return {c.id: f"http://127.0.0.1:{first_port + i}/onvif/device_service"
            for i, c in enumerate(cameras)}  # fmt: skip


def register_onvif(target: Any, cameras: list[CameraRow], devices: dict[str, str],
                   user: str = "", password: str = "") -> Attached:  # fmt: skip
    """Add the cameras as ZoneMinder's ONVIF wizard does: `zmonvif-probe.pl profiles` on
    each camera's device, a monitor from the main profile's stream URI; a camera whose
    device has PTZ gets ZoneMinder's ONVIF control. The facts keep what the probe did, per
    camera [id, seconds, profile lines, PTZ]. AttachError saying whose fault a failure is."""
    from simulator.targets import onvif_probe as op

    probe = op.probe_path()
    if probe is None:
        raise AttachError("--register onvif needs ZoneMinder's zmonvif-probe.pl (not on PATH "
                          "nor in /usr/bin): install ZoneMinder on this host")  # fmt: skip
    took: list[list[Any]] = []
    facts = {"onvif": {"probe": probe, "soap": op.SOAP_VERSION, "cameras": took}}
    attached = Attached(target, facts=facts)
    control: int | None = None
    try:
        for cam in cameras:
            url = devices[cam.id]
            run = op.run_profiles(probe, url, user, password)
            took.append([cam.id, round(run.seconds, 3), len(run.profiles)])
            chosen = op.choose(run.profiles)
            if chosen is None:
                raise AttachError(_undescribed(cam.id, run))
            if chosen.uri != cam.main.url:
                raise AttachError(f"--register onvif: camera {cam.id}: the harness's fault: "
                                  f"its ONVIF device {url} gives stream URI {chosen.uri}, not "
                                  f"its stream {cam.main.url}")  # fmt: skip
            fields = op.wizard_monitor(chosen, url, user, password)
            ptz = _ptz_url(cam.id, url)
            if ptz is not None:  # ZoneMinder's ONVIF control moves it (the wizard sets none)
                control = control if control is not None else _onvif_control(target)
                fields |= op.ptz_control(control, ptz, chosen.token, user, password)
            took[-1].append(ptz is not None)
            attached.ids[cam.id] = target.add_monitor(cam.id, fields)
    except BaseException:  # none of them stays behind
        remove_cameras(target, attached.ids.values())
        raise
    return attached


def _ptz_url(camera: str, device_url: str) -> str | None:
    """The camera's PTZ service, as its device says (GetCapabilities), or None."""
    from simulator.targets.onvif_probe import ptz_xaddr

    try:
        return ptz_xaddr(device_url)
    except (OSError, ValueError) as exc:
        raise AttachError(
            f"--register onvif: camera {camera}: the harness's fault: its ONVIF "
            f"device {device_url} did not say its capabilities: {exc}"
        ) from None


def _onvif_control(target: Any) -> int:
    """ZoneMinder's "ONVIF Camera" control (the Controls row of protocol onvif)."""
    found = target.control_id("onvif")
    if found is None:
        raise AttachError("--register onvif: the target's fault: ZoneMinder has no control of "
                          "protocol onvif (Controls table) for the PTZ cameras")  # fmt: skip
    return found


def _undescribed(camera: str, run: Any) -> str:
    """Why the probe described no profile, and whose fault that is."""
    from simulator.targets.onvif_probe import device_answers

    said = f"exit {run.returncode}" + (f": {run.said}" if run.said else "")
    down = device_answers(run.device_url)
    if down is not None:
        return (f"--register onvif: camera {camera}: the harness's fault: its ONVIF device "
                f"{run.device_url} does not answer ({down}); zmonvif-probe.pl {said}")  # fmt: skip
    return (f"--register onvif: camera {camera}: the target's fault: ZoneMinder's "
            f"zmonvif-probe.pl described no profile of {run.device_url} in {run.seconds:.1f} s "
            f"({said}), though the device answers")  # fmt: skip


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
