"""The RTSP 1.0 server (RFC 2326) on asyncio: its connections' life, limits and timeouts.

A connection's sessions end when it closes; they also end after `timeout_s` without a
request, an interleaved packet or an RTCP report from the client (a byte now and then is
none of these), and the connection is then reset, not flushed: SO_LINGER 0, so the kernel
sends RST and frees what was queued for it at once. A connection that lets more than
`max_pending_bytes` pile up unread is reset too. When all `max_connections` are taken, the
connection without a session idle longest makes room. What each request is answered, and
the sessions, are `methods`'.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import socket
import struct
from dataclasses import dataclass, field

from simulator.streams.auth import Authenticator
from simulator.streams.fdlimit import AcceptErrors
from simulator.streams.listener import Listener
from simulator.streams.methods import Limits, RtspMethods, RtspSession
from simulator.streams.pacer import Pacer
from simulator.streams.protocol import BadRequest, Interleaved, RequestParser, response
from simulator.streams.stream import Stream

_RESET = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 s: close() sends RST, frees the buffer


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
            self.server.methods.end_session(session)

    def touch(self) -> None:
        self.last_seen = now = self.server.loop.time()
        for s in self.sessions.values():
            s.last_seen = now
        if not self.sessions:  # to the back of the queue of connections that may make room
            self.server.idle.pop(self, None)
            self.server.idle[self] = None

    def add_session(self, session: RtspSession) -> None:
        """A session set up on this connection: it no longer may make room for another."""
        self.sessions[session.id] = session
        self.server.idle.pop(self, None)

    def drop_session(self, session_id: str) -> None:
        """A session ended: without any left, the connection may make room again."""
        self.sessions.pop(session_id, None)
        if not self.sessions and self in self.server.connections:
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
                status, headers, body = self.server.methods.handle(self, msg)
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
    connections: set[RtspConnection] = field(default_factory=set)
    # connections without a session, least recently active first
    idle: dict[RtspConnection, None] = field(default_factory=dict)
    accept_errors: AcceptErrors = field(default_factory=AcceptErrors)

    def __post_init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.methods = RtspMethods(self.streams, self.pacer, self.auth, self.limits, self.udp_ports)
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

    @property
    def sessions(self) -> dict[str, RtspSession]:
        """Sessions by id."""
        return self.methods.sessions

    def cut(self, camera: str) -> None:
        """Close every connection with a session of this camera (it went away)."""
        for session in list(self.sessions.values()):
            if session.stream.camera == camera:
                self.methods.end_session(session)
                session.conn.abort()

    async def _reap(self) -> None:
        while True:
            await asyncio.sleep(min(1.0, self.limits.timeout_s / 4))
            now = self.loop.time()
            # abort(), not close(): close() waits until a client that stopped reading has
            # taken what is queued for it, which may be never
            for s in list(self.sessions.values()):
                if now - s.last_seen > self.limits.timeout_s:
                    self.methods.end_session(s)
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
            self.methods.heard_rtcp(addr)
