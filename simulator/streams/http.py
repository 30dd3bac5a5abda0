"""The control API's wire: one bounded HTTP/1.1 request per connection.

The head at most MAX_HEAD bytes, a body of at most MAX_BODY bytes of UTF-8 JSON nested at most
MAX_DEPTH deep (431, 413, 400), credentials checked before the body is read (ApiAuth: 401),
one line of error at most MAX_ERROR characters, never the request echoed whole. What a
request means is the subclass's `route`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import ipaddress
import json
import logging
import secrets
from dataclasses import dataclass
from typing import Any

from simulator.limits import LimitError, loads_json

MAX_HEAD = 8192
MAX_BODY = 4096  # a fault is a few parameters
MAX_DEPTH = 4  # JSON nesting; a fault's body is one flat object
MAX_ERROR = 200  # characters of an error message: a request's input is never echoed whole
REQUEST_TIMEOUT_S = 10.0  # a connection that has not sent a whole request by then is closed
READS = ("GET", "HEAD")
SINGLE = ("content-length", "authorization", "transfer-encoding")  # never repeated
BODY_SHAPE = 'a JSON object {"kind": "<kind>", "<parameter>": <number, string or boolean>, …}'


def is_loopback(host: str) -> bool:
    """Whether an address to bind is a loopback one (a name other than localhost: no)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class ApiAuth:
    """Who may use the API: anyone bearing `token` (serve prints it on its ready line), or
    `user`/`password` over HTTP Basic when serve has them; reads are open when `open_reads`
    (a loopback address). Credentials are compared in constant time, as bytes."""

    token: str
    user: str | None = None
    password: str | None = None
    open_reads: bool = True

    @classmethod
    def new(cls, host: str, user: str | None = None, password: str | None = None) -> ApiAuth:
        """A fresh random token for an API listening on `host`."""
        return cls(secrets.token_urlsafe(32), user, password, is_loopback(host))

    def needed(self, method: str, path: str) -> bool:
        """Whether a request needs credentials (the health check never does)."""
        if path.rstrip("/") == "/api/health" and method in READS:
            return False
        return method not in READS or not self.open_reads

    def allows(self, authorization: str) -> bool:
        """Whether an Authorization header's value holds valid credentials."""
        scheme, _, cred = authorization.strip().partition(" ")
        given = cred.strip().encode("latin-1")  # the bytes sent (the head is read as Latin-1)
        if scheme.lower() == "bearer":
            return hmac.compare_digest(given, self.token.encode())
        if scheme.lower() == "basic" and self.user is not None:
            try:
                pair = base64.b64decode(given, validate=True)
            except (binascii.Error, ValueError):
                return False
            expected = f"{self.user}:{self.password or ''}".encode()
            return hmac.compare_digest(pair, expected)
        return False

    def challenges(self) -> list[str]:
        """The WWW-Authenticate headers of a 401."""
        out = ['Bearer realm="camsim"']
        if self.user is not None:
            out.append('Basic realm="camsim", charset="UTF-8"')
        return out


def json_params(body: bytes) -> dict[str, Any]:
    """A request body as a flat JSON object of scalars (an empty body: {}); raises
    ValueError with a one-line reason naming what is allowed."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"the body is not UTF-8; expected {BODY_SHAPE}") from None
    if not text.strip():
        return {}
    try:
        data = loads_json(text, MAX_BODY, MAX_DEPTH)  # nesting checked before it is parsed
    except LimitError as exc:
        raise ValueError(f"{exc}; expected {BODY_SHAPE}") from None
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"not JSON ({str(exc)[:80]}); expected {BODY_SHAPE}") from None
    if not isinstance(data, dict) or not all(
        isinstance(v, str | int | float | bool) for v in data.values()
    ):
        raise ValueError(f"expected {BODY_SHAPE}")
    return data


def one_line(text: str) -> str:
    """An error message on one line of at most MAX_ERROR characters."""
    text = " ".join(text.split())
    return text if len(text) <= MAX_ERROR else text[: MAX_ERROR - 1] + "…"


class OneRequest(asyncio.Protocol):
    """One request on one connection: its head, then (when allowed) a bounded body, then
    the answer `route` gives."""

    def __init__(self, auth: ApiAuth) -> None:
        self.auth = auth
        self.buf = bytearray()
        self.transport: asyncio.Transport | None = None
        self.request: tuple[str, str, int] | None = None  # method, path, where the body begins
        self.length = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is not a subclass
        self.timer = asyncio.get_running_loop().call_later(REQUEST_TIMEOUT_S, transport.abort)

    def connection_lost(self, exc: Exception | None) -> None:
        self.timer.cancel()

    def data_received(self, data: bytes) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        self.buf += data
        if self.request is None and not self._head():
            return
        assert self.request is not None
        method, path, start = self.request
        if len(self.buf) < start + self.length:
            return
        body = bytes(self.buf[start : start + self.length])
        try:
            status, payload = self.route(method, path, body)
        except ValueError as exc:
            status, payload = 400, {"error": one_line(str(exc))}
        except Exception as exc:  # noqa: BLE001 - an answer, not a traceback per connection
            what = one_line(f"internal error: {type(exc).__name__}: {exc}")
            logging.getLogger(__name__).error("control API: %s %s: %s", method, path[:80], what)
            status, payload = 500, {"error": f"internal error: {type(exc).__name__}"}
        self._reply(status, payload)

    def _head(self) -> bool:
        """Parse the request head once it is whole; False while it is not (or answered)."""
        end = self.buf.find(b"\r\n\r\n")
        if end < 0 or end > MAX_HEAD:
            if len(self.buf) > MAX_HEAD:
                self._reply(431, {"error": f"request head larger than {MAX_HEAD} bytes"})
            return False
        try:
            head = bytes(self.buf[:end]).decode("latin-1").split("\r\n")
            method, target, version = head[0].split(" ")
            if not (method.isascii() and method.isalpha() and method.isupper()
                    and target.startswith("/") and version.startswith("HTTP/1.")):  # fmt: skip
                raise ValueError
            headers: dict[str, str] = {}
            for h in head[1:]:
                k, sep, v = h.partition(":")
                k = k.strip().lower()
                if not sep or (k in headers and k in SINGLE):
                    raise ValueError
                headers.setdefault(k, v.strip())
        except ValueError:
            self._reply(400, {"error": "malformed request (METHOD /path HTTP/1.x, headers, no "
                                       "repeated Content-Length or Authorization)"})  # fmt: skip
            return False
        path = target.split("?")[0]
        if self.auth.needed(method, path) and not self.auth.allows(
            headers.get("authorization", "")
        ):
            self._reply(401, {"error": "credentials needed: serve's --user/--password (Basic) "
                                       "or the token of its ready line (Bearer)"})  # fmt: skip
            return False
        if "transfer-encoding" in headers:
            self._reply(501, {"error": "no Transfer-Encoding: send Content-Length"})
            return False
        length = headers.get("content-length", "0")
        if not (length.isascii() and length.isdigit()):
            self._reply(400, {"error": "Content-Length must be a decimal number"})
            return False
        if len(length) > 9 or int(length) > MAX_BODY:
            self._reply(413, {"error": f"body larger than {MAX_BODY} bytes"})
            return False
        self.request, self.length = (method, path, end + 4), int(length)
        return True

    def route(self, method: str, path: str, body: bytes) -> tuple[int, Any]:
        """(status, payload) for a whole request (raises ValueError for a bad body: 400)."""
        raise NotImplementedError

    def _reply(self, status: int, payload: Any) -> None:
        assert self.transport is not None
        if isinstance(payload, str):
            body, ctype = payload.encode(), "text/plain; version=0.0.4"
        else:
            body, ctype = json.dumps(payload, indent=1).encode(), "application/json"
        reason = {
            200: "OK",
            202: "Accepted",
            503: "Service Unavailable",
            400: "Bad Request",
            401: "Unauthorized",
            404: "Not Found",
            405: "Method Not Allowed",
            413: "Payload Too Large",
            500: "Internal Server Error",
            431: "Request Header Fields Too Large",
            501: "Not Implemented",
        }
        extra = "".join(f"WWW-Authenticate: {c}\r\n" for c in self.auth.challenges())
        head = (
            f"HTTP/1.1 {status} {reason.get(status, 'Error')}\r\nContent-Type: {ctype}\r\n"
            f"{extra if status == 401 else ''}"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        self.transport.write(head.encode() + body)
        self.transport.close()
        self.buf.clear()
