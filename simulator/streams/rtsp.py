"""The RTSP 1.0 server (RFC 2326) on asyncio: connections, sessions, methods, limits.

Paths are `/{camera}/main` and `/{camera}/sub` (track `trackID=0`). Sessions belong to the
connection that set them up: when it closes, they end; they also end after `timeout_s`
without a request, an interleaved packet or an RTCP report from the client (a byte now and
then is none of these), and the connection is then reset, not flushed: SO_LINGER 0, so the
kernel sends RST and frees what was queued for it at once. When all `max_connections` are
taken, the connection without a session idle longest makes room.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import secrets
import socket
import struct
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from simulator.streams.auth import AuthCheck, Authenticator
from simulator.streams.fdlimit import AcceptErrors
from simulator.streams.listener import Listener
from simulator.streams.pacer import Pacer
from simulator.streams.protocol import (
    BadRequest,
    Interleaved,
    RequestParser,
    RtspRequest,
    parse_transport,
    response,
)
from simulator.streams.sdp import TRACK, describe
from simulator.streams.stream import Client, Stream

_RESET = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 s: close() sends RST, frees the buffer
METHODS = "OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER, SET_PARAMETER"


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


@dataclass(eq=False)
class RtspSession:
    """An RTSP session: one stream delivered to one client."""

    id: str
    stream: Stream
    client: Client
    conn: RtspConnection
    last_seen: float


class RtspConnection(asyncio.Protocol):
    """One client connection: parses requests, answers them, carries interleaved media."""

    def __init__(self, server: RtspServer) -> None:
        self.server = server
        self.parser = RequestParser()
        self.transport: asyncio.Transport | None = None
        self.sessions: dict[str, RtspSession] = {}
        self.peer = ("", 0)
        self.fd = -1
        self.sock: socket.socket | None = None
        self.last_seen = server.loop.time()
        self.serial = next(server.serials)  # names the connection in its digest nonces

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is not a subclass
        self.peer = (transport.get_extra_info("peername") or ("", 0))[:2]  # None: already gone
        if len(self.server.connections) >= self.server.limits.max_connections:
            transport.abort()
            return
        self.server.connections.add(self)
        self.server.idle[self] = None
        sock = transport.get_extra_info("socket")
        if sock is not None:
            self.sock = sock
            self.fd = sock.fileno()
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                if self.server.limits.sndbuf_bytes:
                    sock.setsockopt(
                        socket.SOL_SOCKET, socket.SO_SNDBUF, self.server.limits.sndbuf_bytes
                    )

    def connection_lost(self, exc: Exception | None) -> None:
        self.server.connections.discard(self)
        self.server.idle.pop(self, None)
        for session in list(self.sessions.values()):
            self.server.end_session(session)

    def touch(self) -> None:
        self.last_seen = now = self.server.loop.time()
        for s in self.sessions.values():
            s.last_seen = now
        if not self.sessions:  # to the back of the queue of connections that may make room
            self.server.idle.pop(self, None)
            self.server.idle[self] = None

    def abort(self) -> None:
        """Reset the connection at once, dropping what is still queued for it."""
        if self.sock is not None:
            # without it the kernel keeps the socket in FIN-WAIT-1 with its unsent data (up
            # to the send buffer) for as long as a client that stopped reading stays
            with contextlib.suppress(OSError):
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RESET)
        if self.transport is not None:
            self.transport.abort()

    def data_received(self, data: bytes) -> None:
        assert self.transport is not None
        if self.transport.is_closing():
            return
        try:
            messages = self.parser.feed(data)
        except BadRequest as exc:
            self.transport.write(response(exc.status, None, [("Connection", "close")]))
            self.transport.close()
            return
        if messages:  # only whole requests and packets keep a connection alive, not a byte
            self.touch()
        for msg in messages:
            if isinstance(msg, Interleaved):
                continue  # RTCP receiver reports: they only keep the session alive
            try:
                status, headers, body = self.server.handle(self, msg)
            except BadRequest as exc:
                self.transport.write(response(exc.status, msg.cseq, [("Connection", "close")]))
                self.transport.close()
                return
            self.transport.write(response(status, msg.cseq, headers, body))
        if self.transport.get_write_buffer_size() > self.server.limits.max_pending_bytes:
            self.abort()  # a client that sends but never reads


@dataclass
class RtspServer:
    """Camera streams by path, their sessions, and the connections carrying them."""

    streams: dict[str, Stream]  # "camera/main" → stream
    pacer: Pacer
    auth: Authenticator | None = None
    limits: Limits = field(default_factory=Limits)
    udp_ports: tuple[int, int] = (0, 0)
    sessions: dict[str, RtspSession] = field(default_factory=dict)
    connections: set[RtspConnection] = field(default_factory=set)
    # connections without a session, least recently active first
    idle: dict[RtspConnection, None] = field(default_factory=dict)
    rtcp_peers: dict[tuple[str, int], RtspSession] = field(default_factory=dict)
    accept_errors: AcceptErrors = field(default_factory=AcceptErrors)

    def __post_init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.serials = itertools.count()
        self._listener = Listener(self.loop, self._accepted, self.accept_errors)
        self._opening: set[asyncio.Task] = set()
        self._reaper: asyncio.Task | None = None

    async def start(self, host: str, port: int) -> int:
        """Listen; returns the port (useful with port 0)."""
        port = await self._listener.open(host, port)
        self._reaper = self.loop.create_task(self._reap())
        if self.pacer.udp is not None:
            self.loop.add_reader(self.pacer.udp.rtcp.fileno(), self._on_rtcp)
        return port

    async def stop(self) -> None:
        if self._reaper:
            self._reaper.cancel()
        if self.pacer.udp is not None:
            self.loop.remove_reader(self.pacer.udp.rtcp.fileno())
        self._listener.close()
        for task in list(self._opening):
            task.cancel()
        for conn in list(self.connections):
            conn.abort()

    def _accepted(self, sock: socket.socket) -> None:
        full = len(self.connections) + len(self._opening) >= self.limits.max_connections
        if full and not self._make_room():
            sock.close()  # refused before it costs a transport
            return
        task = self.loop.create_task(
            self.loop.connect_accepted_socket(lambda: RtspConnection(self), sock)
        )
        self._opening.add(task)
        task.add_done_callback(self._opened)

    def _make_room(self) -> bool:
        """Abort the connection without a session idle longest, if idle long enough."""
        for conn in self.idle:
            if self.loop.time() - conn.last_seen < self.limits.evict_idle_after_s:
                return False
            del self.idle[conn]
            self.connections.discard(conn)
            conn.abort()
            return True
        return False

    def _opened(self, task: asyncio.Task) -> None:
        self._opening.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved: a client gone before its transport was made is no error

    # -- sessions --------------------------------------------------------------------------

    def end_session(self, session: RtspSession) -> None:
        """Free everything a session holds."""
        self.sessions.pop(session.id, None)
        session.conn.sessions.pop(session.id, None)
        if not session.conn.sessions and session.conn in self.connections:
            self.idle[session.conn] = None
        if session.client in session.stream.clients:
            session.stream.clients.remove(session.client)
        if session.client.rtcp_addr is not None:
            self.rtcp_peers.pop(session.client.rtcp_addr, None)
            if session.client.playing:
                self.pacer.goodbye(session.stream, session.client)
        session.client.playing = False

    def cut(self, camera: str) -> None:
        """Close every connection with a session of this camera (it went away)."""
        for session in list(self.sessions.values()):
            if session.stream.camera == camera:
                self.end_session(session)
                session.conn.abort()

    async def _reap(self) -> None:
        while True:
            await asyncio.sleep(min(1.0, self.limits.timeout_s / 4))
            now = self.loop.time()
            # abort(), not close(): close() waits until a client that stopped reading has
            # taken what is queued for it, which may be never
            for s in list(self.sessions.values()):
                if now - s.last_seen > self.limits.timeout_s:
                    self.end_session(s)
                    if s.client.tcp is not None:
                        s.conn.abort()
            for conn in list(self.connections):
                if not conn.sessions and now - conn.last_seen > self.limits.timeout_s:
                    conn.abort()

    def _on_rtcp(self) -> None:
        assert self.pacer.udp is not None
        sock = self.pacer.udp.rtcp
        for _ in range(64):
            try:
                _, addr = sock.recvfrom(2048)
            except OSError:
                return
            session = self.rtcp_peers.get(addr[:2])
            if session is not None:
                session.last_seen = self.loop.time()

    # -- requests --------------------------------------------------------------------------

    def handle(
        self, conn: RtspConnection, req: RtspRequest
    ) -> tuple[int, list[tuple[str, str]], bytes]:
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

    def _session(self, conn: RtspConnection, req: RtspRequest) -> RtspSession | None | tuple:
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

    def _describe(self, req: RtspRequest) -> tuple[int, list[tuple[str, str]], bytes]:
        stream = self._available(req.url)
        if isinstance(stream, int):
            return stream, [], b""
        host = urlsplit(req.url).hostname or "0.0.0.0"
        body = describe(
            stream.clip, host, f"camsim {stream.camera} {stream.name}", stream.ssrc
        ).encode()
        base = req.url.rstrip("/") + "/"
        return 200, [("Content-Base", base), ("Content-Type", "application/sdp")], body

    def _setup(
        self, conn: RtspConnection, req: RtspRequest
    ) -> tuple[int, list[tuple[str, str]], bytes]:
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
        conn.sessions[sid] = session
        self.idle.pop(conn, None)
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
