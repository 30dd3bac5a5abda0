"""Wiring: the city's cameras → clips → streams → RTSP server, timeline replay and control API.

The wire layer knows the scenario only through the handover (`simulator/model/handover.py`):
each served camera's district, street profile, streams' specs and seeds from the seed tree,
and the districts with a backup link; built from a City, or read from a lab run's inputs.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import socket
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from simulator.model.city import City
from simulator.model.handover import Handover, ServedCamera
from simulator.streams.applier import FaultApplier, FaultState, Replay, replay
from simulator.streams.auth import Authenticator
from simulator.streams.clipcache import ClipCache, default_cache_dir
from simulator.streams.encoder import EncodeSpec, loop_frames
from simulator.streams.fdlimit import AcceptErrors, fit_open_files, log
from simulator.streams.loop import Loop
from simulator.streams.output import UdpOut
from simulator.streams.pacer import Pacer
from simulator.streams.rtsp import Limits, RtspServer
from simulator.streams.scenes import SceneSpec
from simulator.streams.stalls import LoopProbe
from simulator.streams.stream import Stream
from simulator.timeline.clock import ReplayClock
from simulator.timeline.event import Event


@dataclass
class ServeOptions:
    """How to serve: addresses, limits, clip building, credentials."""

    host: str = "127.0.0.1"
    rtsp_port: int = 8554
    udp_port: int = 0  # RTP port of the shared UDP pair (RTCP is the next one); 0: any free
    loop_seconds: float = 4.0
    overlay: str = "auto"  # camera: one clip per camera named in its overlay; group: shared
    cache_dir: Path = field(default_factory=default_cache_dir)
    progress: bool = True
    limits: Limits = field(default_factory=Limits)
    client_buffer_bytes: int | None = None  # a TCP client's backlog allowance, or by time:
    client_buffer_s: float = 2.0  # seconds of the stream's video (at least 64 kB)
    batch_s: float = 0.002  # frames due within this window are sent in one pass
    user: str | None = None
    password: str | None = None
    auth_scheme: str = "digest"
    udp: bool = True
    gso: bool = True
    sei: bool = True  # camera id and send time in an SEI message in every H.26x frame


class JsonLog(Protocol):
    """A log the control API can show: its entries after `since` as JSON."""

    def to_json(self, since: int = 0) -> dict[str, Any]: ...


@dataclass(frozen=True)
class CameraPlan:
    """One served camera: where it is and the loops of its streams (day and night)."""

    id: str
    index: int
    district: str
    streams: dict[str, tuple[EncodeSpec, EncodeSpec]]  # main/sub → (day, night)
    group: str  # its camera group's name
    seeds: dict[str, int]  # main/sub → its seed from the seed tree (32 bits)


def plan_cameras(cameras: Sequence[ServedCamera], opts: ServeOptions) -> list[CameraPlan]:
    """The loops every camera handed over needs."""
    per_camera = opts.overlay == "camera" or (opts.overlay == "auto" and len(cameras) <= 8)
    plans = []
    for cam in cameras:
        # Shared clips are per street profile, so groups that differ only by name share them;
        # a profile's picture is the same in every city and seed, so its clips can be cached.
        profile = f"{cam.scene}/{cam.activity}"
        label = cam.id if per_camera else f"camsim {profile}"
        seed = zlib.crc32(profile.encode())
        specs = {}
        for name, s in cam.streams.items():
            frames = loop_frames(s.fps, s.gop, opts.loop_seconds)
            pair = []
            for night in (False, True):
                scene = SceneSpec(s.width, s.height, s.fps, frames, cam.scene, cam.activity,
                                  night, f"{label} {name}", seed)  # fmt: skip
                rate = s.mbps * 1e6 * (cam.night_factor if night else 1.0)
                pair.append(EncodeSpec(scene, s.codec, s.gop, rate, s.cap_factor))
            specs[name] = (pair[0], pair[1])
        seeds = {name: s.seed for name, s in cam.streams.items()}
        plans.append(CameraPlan(cam.id, cam.index, cam.district, specs, cam.group, seeds))
    return plans


def _udp_pair(host: str, port: int) -> tuple[socket.socket, socket.socket]:
    """Bind the RTP and RTCP sockets on consecutive ports (any free pair if port is 0)."""
    for _ in range(50):
        rtp = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
        rtp.bind((host, port))
        p = rtp.getsockname()[1]
        rtcp = socket.socket(rtp.family, socket.SOCK_DGRAM)
        try:
            rtcp.bind((host, p + 1))
        except OSError:
            rtp.close()
            rtcp.close()
            if port:
                raise
            continue
        for s in (rtp, rtcp):
            s.setblocking(False)
            with contextlib.suppress(OSError):
                s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8 << 20)
        return rtp, rtcp
    raise OSError("no free UDP port pair")


class CameraServer:
    """Serves a city's (selected) cameras over RTSP and replays their timeline."""

    def __init__(
        self,
        cameras: City | Handover,
        indexes: Sequence[int] | None,
        opts: ServeOptions,
        events: Sequence[Event] = (),
        clock: ReplayClock | None = None,
    ) -> None:
        """Serve a City's cameras at `indexes` (None: all; standalone `camsim serve`), or
        every camera of a Handover (a lab run's, OUT/run/cameras.json; `indexes` None)."""
        if isinstance(cameras, Handover):
            if indexes is not None:
                raise ValueError("a handover's cameras are chosen before: Handover.select")
            handover, city = cameras, None
        else:
            handover, city = Handover.of(cameras, indexes), cameras
        self.city: City | None = city  # standalone only (the ONVIF devices read its groups)
        self.handover = handover
        self.opts = opts
        self.plans = plan_cameras(handover.cameras, opts)
        self.replay = Replay(list(events), clock or ReplayClock())
        self.replayer: asyncio.Task | None = None
        self.ready = False
        self.states = {p.id: FaultState() for p in self.plans}
        self.streams: dict[str, Stream] = {}
        self.started = time.time()
        self.rtsp_port = opts.rtsp_port
        self.udp_ports = (0, 0)
        self.clip_stats: list[tuple[EncodeSpec, float]] = []
        self.accept_errors: AcceptErrors | None = None
        self.probe = LoopProbe()  # the event loop's stalls, logged with their cause
        # what the control API shows of services beside RTSP (the ONVIF PTZ log, set by
        # onvif/server.py): GET /api/onvif/ptz
        self.onvif_ptz: JsonLog | None = None

    def build_clips(self) -> float:
        """Load or encode every loop; returns seconds taken."""
        t0 = time.perf_counter()
        specs = [spec for p in self.plans for pair in p.streams.values() for spec in pair]
        clips = ClipCache(self.opts.cache_dir, self.opts.progress).get_many(specs)
        loops = {spec: Loop.of(clip, self.opts.sei) for spec, clip in clips.items()}
        self.clip_stats = [(spec, clips[spec].bitrate_bps) for spec in clips]
        for p in self.plans:
            for name, (day, night) in p.streams.items():
                # SSRC, first sequence numbers, loop offset and the fault draws of a stream
                seed = p.seeds[name]
                frames = len(loops[day].frames)
                self.streams[f"{p.id}/{name}"] = Stream(
                    camera=p.id,
                    name=name,
                    day=loops[day],
                    night=loops[night],
                    faults=self.states[p.id],
                    ssrc=seed,
                    phase=(p.index * 0.618034) % 1.0,
                    offset=seed % frames,
                    seed=seed,
                )
        return time.perf_counter() - t0

    async def start(self) -> None:
        """Open the UDP pair and the RTSP listener (build_clips first)."""
        loop = asyncio.get_running_loop()
        self.accept_errors = AcceptErrors(loop.get_exception_handler())
        loop.set_exception_handler(self.accept_errors)
        fit, note = fit_open_files(self.opts.limits.max_connections)
        log.warning("camsim: %s", note)  # a warning: shown once without any logging set up
        limits = dataclasses.replace(self.opts.limits, max_connections=fit)
        udp = None
        if self.opts.udp:
            rtp, rtcp = _udp_pair(self.opts.host, self.opts.udp_port)
            udp = UdpOut(rtp, rtcp, gso=self.opts.gso)
            self.udp_ports = (rtp.getsockname()[1], rtcp.getsockname()[1])
        o = self.opts
        self.pacer = Pacer(udp, o.client_buffer_bytes, o.client_buffer_s, o.batch_s)
        auth = None
        if self.opts.user is not None:
            auth = Authenticator(self.opts.user, self.opts.password or "", self.opts.auth_scheme)
        self.rtsp = RtspServer(
            self.streams, self.pacer, auth, limits, self.udp_ports, accept_errors=self.accept_errors
        )
        self.rtsp_port = await self.rtsp.start(self.opts.host, self.opts.rtsp_port)
        district_of = {p.id: p.district for p in self.plans}
        backups = set(self.handover.backups)
        self.faults = FaultApplier(self.states, district_of, backups, self.rtsp.cut)
        self.probe.start(self.pacer.worst_late)
        self.ready = True

    def start_replay(self) -> asyncio.Task | None:
        """Replay the timeline from now on the running loop (start first); once only."""
        if self.replayer is None:
            self.replayer = asyncio.get_running_loop().create_task(replay(self.replay, self.faults))
        return self.replayer

    async def stop(self) -> None:
        self.ready = False
        self.probe.stop()
        if self.replayer is not None:
            self.replayer.cancel()
        await self.rtsp.stop()
        if self.accept_errors is not None:
            # the handler stays: an accept retry asyncio scheduled may still fire
            self.accept_errors.close()
        if self.pacer.udp is not None:
            self.pacer.udp.rtp.close()
            self.pacer.udp.rtcp.close()

    def url(self, camera: str, stream: str = "main") -> str:
        host = f"[{self.opts.host}]" if ":" in self.opts.host else self.opts.host
        return f"rtsp://{host}:{self.rtsp_port}/{camera}/{stream}"

    def inject(self, event: Event, loop_time: float | None = None) -> None:
        """Apply one fault event now (durations in wall-clock seconds)."""
        now = asyncio.get_running_loop().time() if loop_time is None else loop_time
        self.faults.apply(event, now, 1.0)
