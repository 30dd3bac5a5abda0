"""The HTTP control and measurement API, on the same event loop as the cameras.

GET /api/cameras                  cameras, stream URLs, state, clients, active faults
POST /api/cameras/{id}/faults     inject a fault now: {"kind": "stream_freeze", "duration_s": 5}
GET /api/timeline                 simulated time now, speed, the next events, the last applied
POST /api/timeline/start          start the replay (camsim serve --wait-start waits for it)
GET /api/health                   200 once every stream can be served, else 503
GET /metrics                      Prometheus text: per camera and total clients, frames and
                                  bytes sent, drops, faults active, send lateness
One request per connection; requests are bounded like the RTSP ones, bodies to MAX_BODY bytes
of UTF-8 JSON nested at most MAX_DEPTH deep (413, 400). Every request but GET and HEAD needs
credentials (ApiAuth: serve's --user/--password as HTTP Basic, or the bearer token on its
ready line), and so do reads unless the API listens on a loopback address: 401 otherwise.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import ipaddress
import json
import logging
import math
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from simulator.streams.applier import fault_event
from simulator.streams.output import unsent_bytes

if TYPE_CHECKING:
    from simulator.streams.server import CameraServer

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


def _reject(_: str) -> Any:
    raise ValueError("numbers must be finite")


def _int(text: str) -> int:
    if len(text.lstrip("-")) > 20:
        raise ValueError("integers have at most 20 digits")
    return int(text)


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("numbers must be finite")
    return value


def json_params(body: bytes) -> dict[str, Any]:
    """A request body as a flat JSON object of scalars (an empty body: {}); raises
    ValueError with a one-line reason naming what is allowed."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"the body is not UTF-8; expected {BODY_SHAPE}") from None
    if not text.strip():
        return {}
    depth = deepest = 0
    quoted = escaped = False
    for ch in text:  # nesting outside strings, before the parser recurses into it
        if quoted:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                quoted = False
        elif ch == '"':
            quoted = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    if deepest > MAX_DEPTH:
        raise ValueError(f"JSON nested more than {MAX_DEPTH} deep; expected {BODY_SHAPE}")
    try:
        data = json.loads(text, parse_constant=_reject, parse_int=_int, parse_float=_float)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"not JSON ({str(exc)[:80]}); expected {BODY_SHAPE}") from None
    if not isinstance(data, dict) or not all(
        isinstance(v, str | int | float | bool) for v in data.values()
    ):
        raise ValueError(f"expected {BODY_SHAPE}")
    return data


def _one_line(text: str) -> str:
    """An error message on one line of at most MAX_ERROR characters."""
    text = " ".join(text.split())
    return text if len(text) <= MAX_ERROR else text[: MAX_ERROR - 1] + "…"


def cameras_json(server: CameraServer) -> list[dict[str, Any]]:
    """What GET /api/cameras returns."""
    now = asyncio.get_running_loop().time()
    out = []
    for p in server.plans:
        state = server.states[p.id]
        streams = {}
        for name in p.streams:
            s = server.streams[f"{p.id}/{name}"]
            night = s.loop is s.night  # the loop on the wire now, its rate and its target
            spec = p.streams[name][night]
            streams[name] = {
                "url": server.url(p.id, name),
                "codec": s.clip.codec,
                "width": s.clip.width,
                "height": s.clip.height,
                "fps": s.clip.fps,
                "bitrate_mbps": round((s.night if night else s.day).clip.bitrate_bps / 1e6, 3),
                "target_mbps": round(spec.target_bps / 1e6, 3),
                "clients": sum(1 for c in s.clients if c.playing),
                "frames_sent": s.counters.frames_sent,
                "bytes_sent": s.counters.bytes_sent,
                "frames_due": s.counters.frames_due,
                "late_skips": s.counters.late_skips,
                "fault_drops": s.counters.fault_drops,
                "target_drops": s.counters.target_drops,
                "unsent_bytes": unsent_bytes(s.clients),
                "keyframe_wait_skips": s.counters.keyframe_wait_skips,
            }
        out.append(
            {
                "id": p.id,
                "district": p.district,
                "state": "offline" if state.offline else "online",
                "night": state.night,
                "faults": state.active(now),
                "streams": streams,
            }
        )
    return out


def timeline_json(server: CameraServer) -> dict[str, Any]:
    """What GET /api/timeline returns: where the replay is, what comes next, what was applied
    (the last APPLIED_KEPT events, with the Unix time each was applied)."""
    replay = server.replay
    clock = replay.clock
    started = replay.started
    now = asyncio.get_running_loop().time()
    return {
        "started": started,
        "speed": clock.speed,
        "start_at_s": clock.start_at,
        "sim_time_s": round(clock.sim_at(now), 3) if started else None,
        "events_total": len(replay.events),
        "events_applied": replay.next_index,
        "next": [json.loads(e.to_json()) for e in replay.upcoming()],
        "applied_total": server.faults.total,
        "applied": [
            {
                "seq": a.seq,
                "wall": round(a.wall, 3),
                "until": a.until and round(a.until, 3),
                **json.loads(a.event.to_json()),
            }
            for a in server.faults.applied
        ],  # fmt: skip
    }


def metrics_text(server: CameraServer) -> str:
    """What GET /metrics returns (Prometheus text format 0.0.4)."""
    now = asyncio.get_running_loop().time()
    lines = []
    ctr = "counter"
    per = [
        ("camsim_stream_clients", "gauge", "playing clients",
         lambda s: sum(c.playing for c in s.clients)),
        ("camsim_stream_frames_sent_total", ctr, "frames sent", lambda s: s.counters.frames_sent),
        ("camsim_stream_bytes_sent_total", ctr, "bytes sent, all clients",
         lambda s: s.counters.bytes_sent),
        ("camsim_stream_client_drops_total", ctr, "frames a slow client missed",
         lambda s: s.counters.client_drops),
        ("camsim_stream_fault_drops_total", ctr, "frames withheld by faults",
         lambda s: s.counters.fault_drops),
        ("camsim_stream_keyframe_wait_skips_total", ctr,
         "frames skipped before the keyframe a started stream opens with",
         lambda s: s.counters.keyframe_wait_skips),
        ("camsim_stream_target_drops_total", ctr,
         "frames a client missed because it stopped reading (the target's loss)",
         lambda s: s.counters.target_drops),
        ("camsim_stream_late_skips_total", ctr,
         "frames skipped because the server fell behind (its own lateness)",
         lambda s: s.counters.late_skips),
        ("camsim_stream_send_lateness_seconds_total", ctr, "sum of frame send lateness",
         lambda s: round(s.counters.lateness_sum, 6)),
    ]  # fmt: skip
    for name, kind, text, fn in per:
        lines += [f"# HELP {name} {text}", f"# TYPE {name} {kind}"]
        total = 0
        for s in server.streams.values():
            v = fn(s)
            total += v
            lines.append(f'{name}{{camera="{s.camera}",stream="{s.name}"}} {v}')
        lines.append(f'{name}{{camera="all",stream="all"}} {total}')
    lines += [
        "# HELP camsim_stream_send_lateness_max_seconds worst frame send lateness",
        "# TYPE camsim_stream_send_lateness_max_seconds gauge",
    ]
    for s in server.streams.values():
        lines.append(
            f'camsim_stream_send_lateness_max_seconds{{camera="{s.camera}",stream="{s.name}"}} '
            f"{s.counters.lateness_max:.6f}"
        )
    lines += [
        "# HELP camsim_camera_faults_active faults in effect",
        "# TYPE camsim_camera_faults_active gauge",
    ]
    for cid, st in server.states.items():
        lines.append(f'camsim_camera_faults_active{{camera="{cid}"}} {len(st.active(now))}')
    lines += [
        "# HELP camsim_timeline_events_total events applied",
        "# TYPE camsim_timeline_events_total counter",
    ]
    for kind, n in sorted(server.faults.counts.items()):
        lines.append(f'camsim_timeline_events_total{{kind="{kind}"}} {n}')
    lines += [
        "# HELP camsim_sessions RTSP sessions",
        "# TYPE camsim_sessions gauge",
        f"camsim_sessions {len(server.rtsp.sessions)}",
        "# HELP camsim_frame_send_lateness_seconds frame send time after its due time",
        "# TYPE camsim_frame_send_lateness_seconds histogram",
        *server.pacer.lateness.lines("camsim_frame_send_lateness_seconds"),
    ]
    return "\n".join(lines) + "\n"


class _Http(asyncio.Protocol):
    """One request on one connection: its head, then (when allowed) a bounded body."""

    def __init__(self, server: CameraServer, auth: ApiAuth) -> None:
        self.server = server
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
            status, payload = 400, {"error": _one_line(str(exc))}
        except Exception as exc:  # noqa: BLE001 - an answer, not a traceback per connection
            what = _one_line(f"internal error: {type(exc).__name__}: {exc}")
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
        """The answer to a whole request (raises ValueError for a bad body: 400)."""
        parts = [p for p in path.split("/") if p]
        if parts == ["metrics"] and method == "GET":
            return 200, metrics_text(self.server)
        if parts == ["api", "cameras"] and method == "GET":
            return 200, cameras_json(self.server)
        if parts == ["api", "timeline"] and method == "GET":
            return 200, timeline_json(self.server)
        if parts == ["api", "timeline", "start"] and method == "POST":
            if json_params(body):
                raise ValueError("POST /api/timeline/start takes no parameters: {} or no body")
            started = self.server.replay.started
            self.server.start_replay()
            return 202, {"started": True, "already": started}
        if parts == ["api", "health"] and method == "GET":
            ready = self.server.ready
            body = {"ready": ready, "cameras": len(self.server.plans),
                    "streams": len(self.server.streams)}  # fmt: skip
            return (200 if ready else 503), body
        if len(parts) == 4 and parts[:2] == ["api", "cameras"] and parts[3] == "faults":
            if method != "POST":
                return 405, {"error": "use POST"}
            return self._fault(parts[2], body)
        return 404, {"error": "not found"}

    def _fault(self, cam: str, body: bytes) -> tuple[int, Any]:
        """POST /api/cameras/{cam}/faults."""
        if cam not in self.server.states:
            return 404, {"error": _one_line(f"no camera {cam[:40]!r} here")}
        data = json_params(body)
        if not isinstance(data.get("kind"), str):
            raise ValueError(f'no "kind": expected {BODY_SHAPE}')
        district = self.server.faults.district_of[cam]
        event = fault_event(data["kind"], cam, district, data)
        refused = self.server.faults.refuse(event)
        if refused:
            raise ValueError(refused)
        self.server.inject(event)
        return 202, {"camera": cam, "kind": event.kind, "params": event.params}

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


async def start_api(
    server: CameraServer, host: str, port: int, auth: ApiAuth
) -> tuple[asyncio.AbstractServer, int]:
    """Listen for the control API; returns the server and its port."""
    loop = asyncio.get_running_loop()
    srv = await loop.create_server(lambda: _Http(server, auth), host, port, reuse_address=True)
    return srv, srv.sockets[0].getsockname()[1]
