"""`camsim serve --onvif`: every served camera an ONVIF device, on the serve's event loop.

Each camera gets its own HTTP port (`port + i`, or any free port when `port` is 0) for its
device, media and event services and snapshots, because ONVIF clients address a device by
host and port (its device service is /onvif/device_service); one WS-Discovery responder
answers for all of them, and in the multicast group says each camera's Hello and Bye. The
events feed (feed.py) watches the serve's FaultApplier, so the event service says what the
timeline does to the cameras. Credentials are the serve's
--user/--password (WS-UsernameToken for SOAP, HTTP Digest or Basic for snapshots); without
them nothing is asked, as for RTSP. The PTZ cameras' commands (ptz_log.py) are the control
API's GET /api/onvif/ptz: the server is handed the log as `onvif_ptz`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from socket import IP_MULTICAST_IF, IPPROTO_IP, inet_aton
from typing import TYPE_CHECKING

from simulator.onvif.devices import Device, describe
from simulator.onvif.discovery import (
    PORT,
    Forward,
    Responder,
    multicast_socket,
    unicast_socket,
)
from simulator.onvif.endpoint import Endpoint
from simulator.onvif.event_service import EventService
from simulator.onvif.feed import Feed
from simulator.onvif.services import Services
from simulator.onvif.snapshot import Snapshots

log = logging.getLogger("camsim.serve")
SWEEP_S = 10.0

if TYPE_CHECKING:
    from simulator.streams.server import CameraServer


@dataclass
class OnvifOptions:
    """Where the devices listen: the first camera's port (0: any free port for each),
    WS-Discovery's UDP port for unicast probes (None: no discovery) and whether to join
    its multicast group on the serve's address (an IPv4 one; when joining fails, a warning
    and unicast only)."""

    port: int = 18000  # 18000-18449 for 450 cameras: clear of 8000-8999 (8089: ZoneMinder here)
    # 0: any free port. Not 3702 by default: a VMS probing from this host listens there, and
    # a socket bound to 127.0.0.1:3702 would take the answers meant for it.
    discovery_port: int | None = 0
    multicast: bool = True  # probes to 239.255.255.250:3702 (loopback: a route to 239/8)


class OnvifDevices:
    """The ONVIF side of a running CameraServer (start it after the server's start)."""

    def __init__(self, cameras: CameraServer, opts: OnvifOptions | None = None) -> None:
        self.cameras = cameras
        self.opts = opts or OnvifOptions()
        self.devices: list[Device] = []
        self.listeners: list[asyncio.AbstractServer] = []
        self.transports: list[asyncio.BaseTransport] = []
        self.responder: Responder | None = None
        self.discovery_port = 0
        self.multicast = False  # joined the discovery group
        self.feed: Feed | None = None
        self.sweeper: asyncio.TimerHandle | None = None

    async def start(self) -> None:
        """Listen for every camera, then answer discovery."""
        o, s = self.opts, self.cameras.opts
        if o.port and o.port + len(self.cameras.plans) - 1 > 65535:
            raise OSError(f"ONVIF ports {o.port} + {len(self.cameras.plans)} cameras pass 65535")
        states = self.cameras.states

        def offset(camera: str) -> float:
            return states[camera].clock_offset_s

        self.feed = Feed(states)  # the timeline's events as ONVIF events (feed.py)
        self.feed.start()
        self.cameras.faults.observers.append(self.feed.observe)
        self._sweep()
        self.services = Services(
            Snapshots(self.cameras.streams, self.cameras.pacer), s.user, s.password, s.auth_scheme,
            offset=offset, events=EventService(self.feed.points, time.time, offset),
        )  # fmt: skip
        self.cameras.onvif_ptz = self.services.ptz.log
        loop = asyncio.get_running_loop()
        by_id: dict[str, Device] = {}
        ports: dict[str, int] = {}
        try:
            for i, plan in enumerate(self.cameras.plans):
                cam = plan.id

                def factory(cam: str = cam) -> Endpoint:
                    return Endpoint(self.services, lambda: by_id[cam])

                srv = await loop.create_server(
                    factory, s.host, o.port + i if o.port else 0, reuse_address=True
                )
                self.listeners.append(srv)
                ports[cam] = srv.sockets[0].getsockname()[1]
            self.devices = describe(self.cameras, s.host, ports)
            by_id.update({d.id: d for d in self.devices})
            if o.discovery_port is not None:
                await self._discovery(o.discovery_port, o.multicast)
        except BaseException:
            await self.stop()
            raise

    async def _discovery(self, port: int, multicast: bool) -> None:
        loop = asyncio.get_running_loop()
        host = self.cameras.opts.host
        self.responder = Responder(self.devices)
        responder = self.responder
        unicast = unicast_socket(host, port)
        transport, _ = await loop.create_datagram_endpoint(lambda: responder, sock=unicast)
        self.transports.append(transport)
        self.discovery_port = transport.get_extra_info("sockname")[1]
        if multicast:
            try:
                sock = multicast_socket(host, PORT)
                unicast.setsockopt(IPPROTO_IP, IP_MULTICAST_IF, inet_aton(host))  # Hello, Bye
            except OSError as exc:
                log.warning("camsim: no ONVIF multicast discovery on %s: %s", host, exc)
                return
            mtransport, _ = await loop.create_datagram_endpoint(
                lambda: Forward(responder), sock=sock
            )
            self.transports.append(mtransport)
            self.multicast = responder.announcing = True
            self.cameras.faults.observers.append(responder.observe)
            for d in self.devices:  # the cameras up now say Hello
                if "camera" not in self.cameras.states[d.id].offline:
                    responder.announce(d.id, True)

    def _sweep(self) -> None:
        """Forget expired subscriptions every SWEEP_S (and at each new one)."""
        if self.feed is not None:
            self.feed.points.sweep(time.time())
            self.sweeper = asyncio.get_running_loop().call_later(SWEEP_S, self._sweep)

    def device(self, camera: str) -> Device | None:
        return next((d for d in self.devices if d.id == camera), None)

    async def stop(self) -> None:
        if self.feed is not None:
            self.feed.stop()
            with contextlib.suppress(ValueError):
                self.cameras.faults.observers.remove(self.feed.observe)
            self.feed = None
        if self.responder is not None:
            with contextlib.suppress(ValueError):
                self.cameras.faults.observers.remove(self.responder.observe)
        if self.sweeper is not None:
            self.sweeper.cancel()
        for srv in self.listeners:
            srv.close()
        for t in self.transports:
            t.close()
        self.listeners, self.transports = [], []


async def serve_onvif(cameras: CameraServer, port: int) -> tuple[OnvifDevices, str]:
    """`camsim serve --onvif`: start the ONVIF side of a started CameraServer (its first
    camera on `port`, the next on port + 1 …; 0: any free ports); returns it and a line
    saying where it answers (stop it before the server). OSError when it cannot."""
    from simulator.onvif import soap

    if soap.DefusedXMLParser is None:
        raise OSError("--onvif needs defusedxml (XML without DTDs or entities): "
                      "pip install 'camsim[onvif]'")  # fmt: skip
    devices = OnvifDevices(cameras, OnvifOptions(port=port))
    await devices.start()
    ports = [d.port for d in devices.devices]
    first = devices.devices[0].device_xaddr if devices.devices else "no camera"
    span = f"ports {min(ports)}-{max(ports)}" if ports else "no port"
    group = ", multicast 239.255.255.250:3702" if devices.multicast else ""
    line = (
        f"camsim serve: ONVIF devices on {span} ({first} …), WS-Discovery unicast UDP "
        f"{devices.discovery_port}{group}"
    )
    return devices, line
