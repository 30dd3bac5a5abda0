"""`camsim serve --onvif`: every served camera an ONVIF device, on the serve's event loop.

Each camera gets its own HTTP port (`port + i`, or any free port when `port` is 0) for its
device and media services and snapshots, because ONVIF clients address a device by host and
port (its device service is /onvif/device_service); one WS-Discovery responder answers for
all of them. Credentials are the serve's --user/--password (WS-UsernameToken for SOAP, HTTP
Digest or Basic for snapshots); without them nothing is asked, as for RTSP.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

from simulator.onvif.devices import Device, describe
from simulator.onvif.discovery import (
    PORT,
    Forward,
    Responder,
    multicast_socket,
    unicast_socket,
)
from simulator.onvif.endpoint import Endpoint, Services
from simulator.onvif.snapshot import Snapshots

if TYPE_CHECKING:
    from simulator.streams.server import CameraServer


@dataclass
class OnvifOptions:
    """Where the devices listen: the first camera's port (0: any free port for each),
    and WS-Discovery's UDP port (None: no discovery) and whether to join its multicast
    group on the serve's address."""

    port: int = 8000
    discovery_port: int | None = PORT
    multicast: bool = False


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

    async def start(self) -> None:
        """Listen for every camera, then answer discovery."""
        o, s = self.opts, self.cameras.opts
        if o.port and o.port + len(self.cameras.plans) - 1 > 65535:
            raise OSError(f"ONVIF ports {o.port} + {len(self.cameras.plans)} cameras pass 65535")
        self.services = Services(
            Snapshots(self.cameras.streams, self.cameras.pacer), s.user, s.password, s.auth_scheme
        )
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
        transport, _ = await loop.create_datagram_endpoint(
            lambda: responder, sock=unicast_socket(host, port)
        )
        self.transports.append(transport)
        self.discovery_port = transport.get_extra_info("sockname")[1]
        if multicast:
            sock = multicast_socket(host, PORT)
            mtransport, _ = await loop.create_datagram_endpoint(lambda: Forward(responder),
                                                                sock=sock)  # fmt: skip
            self.transports.append(mtransport)

    def device(self, camera: str) -> Device | None:
        return next((d for d in self.devices if d.id == camera), None)

    async def stop(self) -> None:
        for srv in self.listeners:
            srv.close()
        for t in self.transports:
            t.close()
        self.listeners, self.transports = [], []
