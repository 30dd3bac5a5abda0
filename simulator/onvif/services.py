"""What every camera's ONVIF endpoint shares: its SOAP operations, credentials and clock.

A SOAP request's body is read within soap.py's bounds, its WS-UsernameToken checked (but for
the calls a client makes before it logs in), and its operation, the Body's first element,
answered by the device, media, Media2, event or PTZ service's function of that name; the
operations on a PullPoint subscription (PullMessages, Renew, Unsubscribe,
SetSynchronizationPoint) are given the id in the path they were posted to. A refusal is a
SOAP fault, never a traceback.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from simulator.onvif import device_service, media2_service, media_service
from simulator.onvif.devices import SUBSCRIPTIONS, Device
from simulator.onvif.event_service import EventService
from simulator.onvif.ptz_node import TPTZ
from simulator.onvif.ptz_service import PtzService
from simulator.onvif.snapshot import Snapshots
from simulator.onvif.soap import (
    NS,
    SOAP11,
    SOAP12,
    SoapFault,
    envelope,
    fault_envelope,
    parse,
    receiver,
)
from simulator.onvif.wsse import PRE_AUTH, UsernameTokens
from simulator.streams.auth import Authenticator

MAX_CONNECTIONS = 1024  # open at once over all cameras; more are closed at once
log = logging.getLogger(__name__)

Reply = tuple[int, bytes, str]  # HTTP status, SOAP envelope, its SOAP version


class Services:
    """What every camera's endpoint shares: the operations, the credentials, the snapshots,
    and the clock (each camera's own: the host's plus its clock_jump offset, which its
    GetSystemDateAndTime says and its UsernameTokens' Created is checked against)."""

    def __init__(
        self,
        snapshots: Snapshots,
        user: str | None = None,
        password: str | None = None,
        auth_scheme: str = "digest",
        clock: Callable[[], float] = time.time,
        offset: Callable[[str], float] = lambda camera: 0.0,
        events: EventService | None = None,
        ptz: PtzService | None = None,
    ) -> None:
        self.snapshots = snapshots
        self.clock = clock
        self.offset = offset  # a camera's clock offset (the timeline's clock_jump)
        self.tokens = UsernameTokens(user, password or "") if user is not None else None
        self.http_auth = Authenticator(user, password or "", auth_scheme) if user else None
        self.ops = {
            NS["tds"]: device_service.operations(user),
            NS["trt"]: media_service.operations(),
            device_service.TR2: media2_service.operations(),
        }
        self.ptz = ptz or PtzService()  # the PTZ cameras' heads, presets, command log
        self.ops[TPTZ] = self.ptz.operations()
        self.sub_ops: dict[tuple[str, str], Callable[..., Any]] = {}
        if events is not None:
            self.ops[NS["tev"]] = events.operations()
            self.sub_ops = events.subscription_operations()
        self.counts: dict[str, int] = {}  # operations answered (faults under "fault")
        self.max_connections = MAX_CONNECTIONS
        self.open = 0  # connections open now, all cameras
        self.refused = 0  # connections closed at once: MAX_CONNECTIONS were open

    def soap(
        self, dev: Device, body: bytes, path: str = "/onvif/device_service"
    ) -> Reply | Awaitable[Reply]:
        """(status, envelope, its SOAP version) answering a SOAP request's body posted to
        `path`, or an awaitable of it (a PullMessages waiting for messages)."""
        head = body[:4096]  # the version to fault in when the body cannot be read
        soap = SOAP11 if SOAP11.encode() in head and SOAP12.encode() not in head else SOAP12
        try:
            req = parse(body)
            soap = req.soap
            ns, name = req.name
            now = self.clock() + self.offset(dev.id)  # the camera's own clock
            if self.tokens is not None and name not in PRE_AUTH:
                self.tokens.check(req.header, now)
            on_sub = self.sub_ops.get((ns, name))
            op = self.ops.get(ns, {}).get(name)
            if on_sub is not None:
                sub = path[len(SUBSCRIPTIONS) :] if path.startswith(SUBSCRIPTIONS) else ""
                answer = on_sub(dev, req.action, now, sub)
            elif op is not None:
                answer = op(dev, req.action, now)
            else:
                where = ns[:80] or "no namespace"
                raise receiver("ter:ActionNotSupported", f"{name[:60]} of {where} is not "
                               "implemented by camsim")  # fmt: skip
            self.counts[name] = self.counts.get(name, 0) + 1
            if isinstance(answer, str):
                return 200, envelope(soap, answer), soap
            return self._later(dev, answer, soap)
        except Exception as exc:  # noqa: BLE001 - a fault, not a traceback
            return self._fault(dev, exc, soap)

    async def _later(self, dev: Device, answer: Awaitable[str], soap: str) -> Reply:
        try:
            return 200, envelope(soap, await answer), soap
        except Exception as exc:  # noqa: BLE001 - a fault, not a traceback
            return self._fault(dev, exc, soap)

    def _fault(self, dev: Device, exc: Exception, soap: str) -> Reply:
        """A SOAP fault answering an exception (one not a SoapFault logged: a receiver's)."""
        self.counts["fault"] = self.counts.get("fault", 0) + 1
        if not isinstance(exc, SoapFault):
            log.error("onvif %s: %s: %s", dev.id, type(exc).__name__, str(exc)[:200])
            exc = receiver("ter:Action", f"internal error: {type(exc).__name__}")
        return exc.status, fault_envelope(soap, exc), soap
