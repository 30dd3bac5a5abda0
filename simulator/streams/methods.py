"""RTSP methods (RFC 2326): what the server answers to each request, and the sessions
SETUP makes.

Paths are `/{camera}/main` and `/{camera}/sub` (track `trackID=0`). Credentials are checked
first, so that before them a known, an offline and an unknown camera answer alike. A session
delivers one stream to one client, over its RTSP connection (interleaved) or to its UDP
ports; a session over TCP is used only on the connection that set it up. The connection's
life (timeouts, limits, resets) is `rtsp`'s.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlsplit

from simulator.streams.auth import AuthCheck, Authenticator
from simulator.streams.pacer import Pacer
from simulator.streams.protocol import BadRequest, RtspRequest, parse_transport
from simulator.streams.sdp import TRACK, describe
from simulator.streams.stream import Client, Stream

METHODS = "OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER, SET_PARAMETER"
Reply = tuple[int, list[tuple[str, str]], bytes]  # status, headers, body


@dataclass
class Limits:
    """How much the server accepts before it answers 453 or closes connections."""

    max_sessions: int = 10_000
    max_clients_per_stream: int = 32
    max_connections: int = 20_000
    timeout_s: float = 60.0
    max_pending_bytes: int = 8_000_000  # unread answers + media queued for one connection
    # when full, a connection without a session that sent nothing whole for this long makes
    # room for a new one (a flood of idle connections cannot lock clients out)
    evict_idle_after_s: float = 1.0
    # the kernel's send buffer per connection (it doubles it), as small as a camera's, so a
    # client that stops reading fills it in seconds, not minutes (None: autotuned, to 4 MB)
    sndbuf_bytes: int | None = 256_000


class Carrier(Protocol):
    """What the methods need of the connection a request came on (`rtsp.RtspConnection`)."""

    transport: asyncio.Transport | None
    peer: tuple[str, int]
    fd: int
    serial: int

    def add_session(self, session: RtspSession) -> None: ...

    def drop_session(self, session_id: str) -> None: ...

    def abort(self) -> None: ...


@dataclass(eq=False)
class RtspSession:
    """An RTSP session: one stream delivered to one client."""

    id: str
    stream: Stream
    client: Client
    conn: Carrier
    last_seen: float


@dataclass
class RtspMethods:
    """Answers requests on the camera streams by path, and keeps the sessions they make."""

    streams: dict[str, Stream]  # "camera/main" → stream
    pacer: Pacer
    auth: Authenticator | None
    limits: Limits
    udp_ports: tuple[int, int] = (0, 0)
    sessions: dict[str, RtspSession] = field(default_factory=dict)
    rtcp_peers: dict[tuple[str, int], RtspSession] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.loop = asyncio.get_running_loop()

    def end_session(self, session: RtspSession) -> None:
        """Free everything a session holds."""
        self.sessions.pop(session.id, None)
        session.conn.drop_session(session.id)
        if session.client in session.stream.clients:
            session.stream.clients.remove(session.client)
        if session.client.rtcp_addr is not None:
            self.rtcp_peers.pop(session.client.rtcp_addr, None)
            if session.client.playing:
                self.pacer.goodbye(session.stream, session.client)
        session.client.playing = False

    def heard_rtcp(self, addr: tuple[str, int]) -> None:
        """An RTCP report from `addr`: it keeps that address's session alive."""
        session = self.rtcp_peers.get(addr[:2])
        if session is not None:
            session.last_seen = self.loop.time()

    def handle(self, conn: Carrier, req: RtspRequest) -> Reply:
        """Answer one request: (status, headers, body)."""
        method = req.method
        if method not in METHODS.split(", "):
            return (
                (405 if method in ("ANNOUNCE", "RECORD", "REDIRECT") else 501),
                [("Allow", METHODS)],
                b"",
            )
        # Credentials first: before them, a known, an offline and an unknown camera answer
        # alike (OPTIONS 200, the rest 401), so a stranger cannot tell which cameras exist.
        if self.auth is not None:
            bind = str(conn.serial)  # a nonce is good on the connection it was issued on
            outcome = self.auth.check(method, req.url, req.headers.get("authorization"), bind)
            if outcome is not AuthCheck.OK:
                if method == "OPTIONS":
                    return 200, [("Public", METHODS)], b""
                challenges = self.auth.challenges(outcome is AuthCheck.STALE, bind)
                return 401, [("WWW-Authenticate", c) for c in challenges], b""
        if self._offline(req.url):  # whatever is asked: the camera is not there to answer it
            return 503, [], b""
        if method == "OPTIONS":
            return 200, [("Public", METHODS)], b""
        if method == "DESCRIBE":
            return self._describe(req)
        if method == "SETUP":
            return self._setup(conn, req)
        session = self._session(conn, req)
        if isinstance(session, tuple):
            return session
        if session is None:  # GET/SET_PARAMETER without a session: a keep-alive ping
            return 200, [], b""
        session.last_seen = self.loop.time()
        sh = [("Session", f"{session.id};timeout={int(self.limits.timeout_s)}")]
        if method == "PLAY":
            if session.stream.faults.offline:
                return 503, sh, b""
            session.client.playing = True
            session.client.waiting_key = True
            # Started first: an idle stream moves on to the present slot and waits for a
            # keyframe, and RTP-Info must name that keyframe's first packet.
            self.pacer.start(session.stream)
            seq, ts = self.pacer.next_key(session.stream, session.client.tcp is not None)
            url = req.url.rstrip("/")
            track = url if url.endswith(TRACK) else f"{url}/{TRACK}"
            return (
                200,
                [*sh, ("Range", "npt=now-"), ("RTP-Info", f"url={track};seq={seq};rtptime={ts}")],
                b"",
            )
        if method == "PAUSE":
            session.client.playing = False
            return 200, sh, b""
        if method == "TEARDOWN":
            self.end_session(session)
            return 200, [], b""
        return 200, sh, b""  # GET_PARAMETER / SET_PARAMETER keep-alive

    def _session(self, conn: Carrier, req: RtspRequest) -> RtspSession | None | Reply:
        sid = req.headers.get("session", "").split(";")[0].strip()
        if not sid:
            if req.method in ("GET_PARAMETER", "SET_PARAMETER"):
                return None
            return 454, [], b""
        session = self.sessions.get(sid)
        if session is None or session.conn is not conn and session.client.tcp is not None:
            return 454, [], b""
        return session

    def _stream(self, url: str) -> tuple[Stream, bool]:
        """The stream a URL names, and whether it names the track (not the aggregate)."""
        try:
            parts = urlsplit(url)
        except ValueError:  # parse_head refuses these: only for an RtspRequest made elsewhere
            raise BadRequest(400, "malformed URL") from None
        if parts.scheme.lower() not in ("rtsp", "rtspt", ""):
            raise BadRequest(400, "not an rtsp URL")
        path = [p for p in parts.path.split("/") if p]
        track = bool(path) and path[-1] == TRACK
        if track:
            path = path[:-1]
        if len(path) == 1:
            path.append("main")
        stream = self.streams.get("/".join(path)) if len(path) == 2 else None
        if stream is None:
            raise _NotFound
        return stream, track

    def _offline(self, url: str) -> bool:
        """Whether a URL names a stream of a camera that is offline now."""
        try:
            stream, _ = self._stream(url)
        except (_NotFound, BadRequest):
            return False
        return bool(stream.faults.offline)

    def _available(self, url: str) -> Stream | int:
        """The stream a URL names if it can be played now, else the status to answer."""
        try:
            stream, _ = self._stream(url)
        except _NotFound:
            return 404
        return 503 if stream.faults.offline else stream

    def _describe(self, req: RtspRequest) -> Reply:
        stream = self._available(req.url)
        if isinstance(stream, int):
            return stream, [], b""
        host = urlsplit(req.url).hostname or "0.0.0.0"
        body = describe(
            stream.clip, host, f"camsim {stream.camera} {stream.name}", stream.ssrc
        ).encode()
        base = req.url.rstrip("/") + "/"
        return 200, [("Content-Base", base), ("Content-Type", "application/sdp")], body

    def _setup(self, conn: Carrier, req: RtspRequest) -> Reply:
        stream = self._available(req.url)
        if isinstance(stream, int):
            return stream, [], b""
        if "session" in req.headers:
            return 459, [], b""  # one track per stream: nothing to add to a session
        tp = parse_transport(req.headers.get("transport", ""))
        if tp is None or (not tp.tcp and self.pacer.udp is None):
            return 461, [], b""
        if (
            len(self.sessions) >= self.limits.max_sessions
            or len(stream.clients) >= self.limits.max_clients_per_stream
        ):
            return 453, [], b""
        sid = secrets.token_hex(8)
        if tp.tcp:
            client = Client(sid, tcp=conn.transport, fd=conn.fd, channel=tp.channels[0])
            tr = f"RTP/AVP/TCP;unicast;interleaved={tp.channels[0]}-{tp.channels[1]}"
        else:
            ip = conn.peer[0]
            client = Client(sid, rtp_addr=(ip, tp.ports[0]), rtcp_addr=(ip, tp.ports[1]))
            a, b = self.udp_ports
            tr = f"RTP/AVP;unicast;client_port={tp.ports[0]}-{tp.ports[1]};server_port={a}-{b}"
        session = RtspSession(sid, stream, client, conn, self.loop.time())
        self.sessions[sid] = session
        conn.add_session(session)
        stream.clients.append(client)
        if client.rtcp_addr is not None:
            self.rtcp_peers[client.rtcp_addr] = session
        return (
            200,
            [
                ("Transport", f"{tr};ssrc={stream.ssrc:08X}"),
                ("Session", f"{sid};timeout={int(self.limits.timeout_s)}"),
            ],
            b"",
        )


class _NotFound(Exception):
    """No stream at this URL."""
