"""A camera's ONVIF HTTP endpoint: SOAP requests to its services, GETs of its snapshots.

POST /onvif/device_service, /onvif/media_service, /onvif/media2_service and
/onvif/event_service carry SOAP (soap.py's bounds; the operation is the Body's first
element, whichever path it is posted to), and /onvif/subscription/<id> a PullPoint
subscription's operations; GET /onvif/snapshot/<profile>.jpg answers a JPEG. The head is at
most MAX_HEAD bytes and the whole request must arrive within REQUEST_TIMEOUT_S; one request
per connection, at most services.MAX_CONNECTIONS open over all cameras. A PullMessages waits
for its answer on the loop, its connection kept up to MAX_PULL_S and REQUEST_TIMEOUT_S more
(and its wait cancelled when the client goes). Refusals are SOAP faults (HTTP 400 for the
sender's, 500 for the receiver's), never a traceback.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from simulator.onvif.devices import Device
from simulator.onvif.event_service import MAX_PULL_S
from simulator.onvif.services import Reply, Services
from simulator.onvif.snapshot import Offline
from simulator.onvif.soap import MAX_BODY, SOAP12, SoapFault, fault_envelope, sender
from simulator.streams.auth import AuthCheck

MAX_HEAD = 8192
REQUEST_TIMEOUT_S = 10.0
SINGLE = ("content-length", "transfer-encoding", "authorization", "host")  # never repeated
log = logging.getLogger(__name__)
REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found",
           405: "Method Not Allowed", 413: "Payload Too Large", 500: "Internal Server Error",
           501: "Not Implemented", 503: "Service Unavailable"}  # fmt: skip


class Endpoint(asyncio.Protocol):
    """One connection to one camera's ONVIF endpoint: one bounded request, one answer."""

    def __init__(self, services: Services, device: Callable[[], Device]) -> None:
        self.services = services
        self.device = device
        self.buf = bytearray()
        self.transport: asyncio.Transport | None = None
        self.head: tuple[str, str, dict[str, str], int] | None = None
        self.length = 0
        self.busy = False
        self.pull: asyncio.Task | None = None  # a PullMessages waiting

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.timer = None
        if self.services.open >= self.services.max_connections:
            self.services.refused += 1
            transport.abort()
            return
        self.services.open += 1
        self.transport = transport  # type: ignore[assignment]
        self.timer = asyncio.get_running_loop().call_later(REQUEST_TIMEOUT_S, transport.abort)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.pull is not None:  # the client went: its pull need not wait
            self.pull.cancel()
        if self.timer is not None:
            self.timer.cancel()
            self.services.open -= 1

    def data_received(self, data: bytes) -> None:
        if self.busy or self.transport is None or self.transport.is_closing():
            return
        self.buf += data
        if self.head is None and not self._read_head():
            return
        assert self.head is not None
        method, path, headers, start = self.head
        if len(self.buf) < start + self.length:
            return
        self.busy = True
        body = bytes(self.buf[start : start + self.length])
        self.buf.clear()
        if method == "POST" and path.startswith("/onvif/"):
            got = self.services.soap(self.device(), body, path)
            if isinstance(got, tuple):
                self._soap_reply(got)
            else:  # a PullMessages: its answer when messages come or its Timeout passes
                loop = asyncio.get_running_loop()
                if self.timer is not None:
                    self.timer.cancel()
                    self.timer = loop.call_later(MAX_PULL_S + REQUEST_TIMEOUT_S, self._abort)
                self.pull = loop.create_task(self._soap_later(got))
        elif method == "GET" and path.startswith("/onvif/snapshot/") and path.endswith(".jpg"):
            profile = path[len("/onvif/snapshot/") : -len(".jpg")]
            answer = self._snapshot(profile, method, path, headers)
            self.task = asyncio.get_running_loop().create_task(answer)  # held while it runs
        else:
            self._reply(404, b"not found: POST SOAP to /onvif/device_service or "
                        b"/onvif/media_service, GET /onvif/snapshot/<profile>.jpg\n")  # fmt: skip

    async def _soap_later(self, got: Awaitable[Reply]) -> None:
        self._soap_reply(await got)

    def _soap_reply(self, got: Reply) -> None:
        status, answer, soap = got
        ctype = "application/soap+xml" if soap == SOAP12 else "text/xml"
        self._reply(status, answer, f"{ctype}; charset=utf-8")

    def _abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    def _read_head(self) -> bool:
        end = self.buf.find(b"\r\n\r\n")
        if end < 0 or end > MAX_HEAD:
            if len(self.buf) > MAX_HEAD:
                self._fault(sender("ter:InvalidArgs", f"request head over {MAX_HEAD} bytes", 400))
            return False
        try:
            lines = bytes(self.buf[:end]).decode("latin-1").split("\r\n")
            method, target, version = lines[0].split(" ")
            if not version.startswith("HTTP/1.") or not target.startswith("/"):
                raise ValueError
            headers: dict[str, str] = {}
            for line in lines[1:]:
                k, sep, v = line.partition(":")
                k = k.strip().lower()
                if not sep or (k in headers and k in SINGLE):
                    raise ValueError
                headers.setdefault(k, v.strip())  # SOAP::Lite repeats Accept
        except ValueError:
            self._fault(sender("ter:WellFormed", "malformed HTTP request head (METHOD /path "
                               "HTTP/1.x, headers, none of Content-Length, Transfer-Encoding, "
                               "Authorization or Host repeated)"))  # fmt: skip
            return False
        if "transfer-encoding" in headers:
            self._fault(sender("ter:InvalidArgs", "no Transfer-Encoding: send Content-Length", 501))
            return False
        length = headers.get("content-length", "0")
        if not (length.isascii() and length.isdigit()):
            self._fault(sender("ter:InvalidArgs", "Content-Length must be a decimal number"))
            return False
        if len(length) > 9 or int(length) > MAX_BODY:
            self._fault(sender("ter:InvalidArgs", f"body larger than {MAX_BODY} bytes", 413))
            return False
        self.head, self.length = (method, target.split("?")[0], headers, end + 4), int(length)
        return True

    async def _snapshot(self, profile: str, method: str, uri: str, headers: dict) -> None:
        dev = self.device()
        auth = self.services.http_auth
        if auth is not None:
            verdict = auth.check(method, uri, headers.get("authorization"))
            if verdict is not AuthCheck.OK:
                extra = {"WWW-Authenticate": auth.challenges(verdict is AuthCheck.STALE)[0]}
                self._reply(401, b"credentials needed: serve's --user/--password\n", extra=extra)
                return
        if dev.profile(profile) is None:
            self._reply(404, f"no profile {profile[:40]!r} on {dev.id}\n".encode())
            return
        try:
            picture = await self.services.snapshots.jpeg(dev.id, profile)
        except Offline as why:
            self._reply(503, f"{dev.id} is offline ({why})\n".encode())
            return
        except Exception as exc:  # noqa: BLE001 - an answer, not a traceback
            log.error("onvif snapshot %s/%s: %s", dev.id, profile, exc)
            self._reply(500, f"snapshot failed: {type(exc).__name__}\n".encode())
            return
        self._reply(200, picture, "image/jpeg")

    def _fault(self, fault: SoapFault) -> None:
        self.busy = True
        self._reply(fault.status, fault_envelope(SOAP12, fault), "application/soap+xml")

    def _reply(self, status: int, body: bytes, ctype: str = "text/plain",
               extra: dict[str, str] | None = None) -> None:  # fmt: skip
        if self.transport is None or self.transport.is_closing():
            return
        more = "".join(f"{k}: {v}\r\n" for k, v in (extra or {}).items())
        head = (
            f"HTTP/1.1 {status} {REASONS.get(status, 'Error')}\r\nContent-Type: {ctype}\r\n"
            f"{more}Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        self.transport.write(head.encode() + body)
        self.transport.close()
