"""The soak's long-lived hostile connections against `camsim serve`: slow readers (SETUP over
TCP, PLAY, then never read; with a keep-alive every 20 s or silent) and idle connections (a
byte every few seconds, never a whole request), each kept until the server ends it or a cap,
and how and when it ended.
"""

from __future__ import annotations

import random
import socket
import time
from dataclasses import KW_ONLY, dataclass
from urllib.parse import urlsplit

from hostile import rtsp, tcp_state

from simulator.streams.client import RtspClient, RtspError

# -- the long-lived hostile connections ---------------------------------------------------------


@dataclass
class Lingerer:
    """A slow reader or an idle connection, kept until the server ends it or `cap_s`."""

    kind: str
    label: str
    sock: socket.socket
    started: float
    cap_s: float
    _: KW_ONLY
    drip: bytes = b""  # sent a byte at a time (whole when `whole`), every `every_s`
    every_s: float = 0.0
    whole: bool = False
    next_at: float = 0.0
    sent: int = 0

    def step(self, now: float) -> str | None:
        """Send its next byte if due; its fate when it ended (None while it lasts)."""
        state = tcp_state(self.sock)
        age = now - self.started
        if state != "open":
            return f"{state} after {_bucket(age)}"
        if age >= self.cap_s:
            return self._drain() if self.kind.startswith("slow") else f"open at {age:.0f} s"
        if self.every_s and now >= self.next_at:
            self.next_at = now + self.every_s
            i = self.sent % len(self.drip)
            byte = self.drip if self.whole else self.drip[i : i + 1]
            try:
                self.sock.send(byte)
                self.sent += 1
            except BlockingIOError:
                pass
            except OSError:
                return f"reset after {_bucket(age)}"
        return None

    def _drain(self, most: int = 4 << 20) -> str:
        """A slow reader's fate, read at last: the server's abort of a connection whose
        window is shut may send neither FIN nor RST until what it had queued is taken."""
        self.sock.settimeout(0.5)
        got, deadline = 0, time.monotonic() + 1.5
        try:
            while got < most and time.monotonic() < deadline:
                n = len(self.sock.recv(65536))
                if not n:
                    return f"ended (read at {self.cap_s:g} s)"
                got += n
        except TimeoutError:
            pass
        except OSError:
            return f"reset (read at {self.cap_s:g} s)"
        return f"streaming at {self.cap_s:g} s"


def _bucket(age: float) -> str:
    step = 5 if age < 30 else 15
    lo = int(age // step * step)
    return f"{lo}-{lo + step} s"


def slow_reader(port: int, url: str, keepalive: bool, cap_s: float) -> Lingerer | str:
    """SETUP over TCP and PLAY, then never read (a tiny receive buffer, so the server's send
    buffer and queue fill at once); the PLAY's answer if it was not 200."""
    try:
        client = RtspClient(port, rcvbuf=4096, timeout_s=5)
    except OSError as exc:
        return f"handshake: {type(exc).__name__}"
    try:
        session = client.start(url)
    except RtspError as exc:  # "PLAY answered 503", or the server closed the connection
        client.close()
        return str(exc).replace(" answered", "")
    except OSError as exc:
        client.close()
        return f"handshake: {type(exc).__name__}"
    s = client.sock
    s.setblocking(False)
    now = time.monotonic()
    ping = rtsp("GET_PARAMETER", url, f"CSeq: 9\r\nSession: {session}\r\n") if keepalive else b""
    kind = "slow reader, keep-alive" if keepalive else "slow reader, silent"
    camera = urlsplit(url).path.strip("/").split("/")[0]
    if keepalive:
        return Lingerer(kind, camera, s, now, cap_s, drip=ping, every_s=20.0, whole=True,
                        next_at=now + 20.0)  # fmt: skip
    return Lingerer(kind, camera, s, now, cap_s)


def idle(port: int, api: bool, url: str, rng: random.Random, cap_s: float) -> Lingerer | str:
    """A connection that sends a byte every few seconds and never a whole request."""
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
    except OSError as exc:
        return f"connect: {type(exc).__name__}"
    s.setblocking(False)
    if api:
        drip, kind = f"GET /api/health HTTP/1.1\r\nX-Pad: {'a' * 9000}".encode(), "idle API"
    else:
        drip, kind = rng.choice((
            (f"OPTIONS {url} RTSP/1.0\r\nCSeq: 1\r\nX-Pad: {'a' * 9000}".encode(),
             "idle RTSP, a request"),
            (b"\r\n", "idle RTSP, blank lines"),
        ))  # fmt: skip
    now = time.monotonic()
    label = url.rsplit("/", 2)[-2]
    return Lingerer(kind, label, s, now, cap_s, drip=drip, every_s=rng.uniform(3, 6), next_at=now)
