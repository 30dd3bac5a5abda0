"""A TCP listener on the event loop that backs off when the process runs out of descriptors.

asyncio's own listener, on EMFILE, logs a traceback and keeps calling accept() up to its
backlog in the same turn (Python 3.11), and its retry timer can fire after the listener is
closed. This one stops accepting for `BACKOFF_S`, counts the failure for a one-line report
(AcceptErrors) and hands every accepted socket to a callback.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable

from simulator.streams.fdlimit import OUT_OF_RESOURCES, AcceptErrors

BACKOFF_S = 0.5
BATCH = 64  # accepts per wake-up before other work gets a turn


class Listener:
    """Listening sockets for one host and port; each accepted socket goes to `accepted`."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        accepted: Callable[[socket.socket], None],
        errors: AcceptErrors,
        backlog: int = 1024,
    ) -> None:
        self.loop = loop
        self.accepted = accepted
        self.errors = errors
        self.backlog = backlog
        self.sockets: list[socket.socket] = []
        self._paused: dict[int, asyncio.TimerHandle] = {}

    async def open(self, host: str | None, port: int) -> int:
        """Bind every address of `host` (all interfaces if empty) and listen; returns the port."""
        infos = await self.loop.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
        seen = set()
        try:
            for family, kind, proto, _, addr in infos:
                if (family, addr) in seen:
                    continue
                seen.add((family, addr))
                sock = socket.socket(family, kind, proto)
                self.sockets.append(sock)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                if family == socket.AF_INET6:
                    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                if port == 0 and len(self.sockets) > 1:  # one port for every address
                    addr = (addr[0], self.sockets[0].getsockname()[1], *addr[2:])
                sock.bind(addr)
                sock.listen(self.backlog)
                sock.setblocking(False)
        except OSError:
            self.close()
            raise
        for sock in self.sockets:
            self._listen(sock)
        return self.sockets[0].getsockname()[1]

    def _listen(self, sock: socket.socket) -> None:
        self._paused.pop(sock.fileno(), None)
        self.loop.add_reader(sock.fileno(), self._accept, sock)

    def _accept(self, sock: socket.socket) -> None:
        for _ in range(BATCH):
            try:
                conn, _ = sock.accept()
            except (BlockingIOError, InterruptedError, ConnectionAbortedError):
                return
            except OSError as exc:
                if exc.errno in OUT_OF_RESOURCES:
                    self.loop.remove_reader(sock.fileno())
                    self._paused[sock.fileno()] = self.loop.call_later(
                        BACKOFF_S, self._listen, sock
                    )
                    self.errors.note(self.loop, exc)
                return  # anything else: the next readiness tries again
            conn.setblocking(False)
            self.accepted(conn)

    def close(self) -> None:
        """Stop listening and close the sockets."""
        for timer in self._paused.values():
            timer.cancel()
        self._paused.clear()
        for sock in self.sockets:
            if sock.fileno() >= 0:
                self.loop.remove_reader(sock.fileno())
                sock.close()
        self.sockets.clear()
