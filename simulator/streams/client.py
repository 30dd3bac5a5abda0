"""A small blocking RTSP 1.0 client on a plain socket (gevent-friendly once monkey-patched; no
asyncio, PyAV or OpenCV): OPTIONS, DESCRIBE, SETUP (RTP interleaved on the RTSP connection, or
UDP to `UdpPorts`), PLAY, GET_PARAMETER, TEARDOWN, with Basic or Digest credentials.

The load test's RTSP viewer and the server's tests speak through it. Responses are read with
`answer.parse_answer`, credentials with `auth.answer_challenge`, packets with
`protocol.interleaved_end` and `rtp.rtp_header`.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from simulator.streams.answer import Answer, parse_answer
from simulator.streams.auth import answer_challenge, parse_challenge
from simulator.streams.protocol import interleaved_end
from simulator.streams.rtp import rtp_header

MAX_MESSAGE = 65536  # bytes of one RTSP response head + body
RECV = 262144
INTERLEAVED = "RTP/AVP/TCP;unicast;interleaved=0-1"


class RtspError(Exception):
    """The server refused or broke the session (one line)."""


@dataclass(frozen=True)
class Description:
    """What DESCRIBE told: the codec, the URL to PLAY and the track to SET UP."""

    codec: str
    base: str
    track: str


@dataclass(frozen=True)
class StreamAddress:
    """An rtsp:// URL taken apart: where to connect, who to be, and the URL without them."""

    host: str
    port: int
    user: str
    password: str
    url: str

    @classmethod
    def of(cls, url: str) -> StreamAddress:
        u = urlsplit(url)
        if u.scheme != "rtsp" or not u.hostname:
            raise RtspError(f"not an rtsp:// URL: {url}")
        bare = u._replace(netloc=u.netloc.rpartition("@")[2]).geturl()  # no credentials
        return cls(u.hostname, u.port or 554, unquote(u.username or ""),
                   unquote(u.password or ""), bare)  # fmt: skip


def message_at(buf: bytearray, i: int = 0) -> tuple[int, Answer | None]:
    """The RTSP message at buf[i] (not an interleaved packet): where it ends, -1 if it has not
    all come, and the response it is (its status 0 if it is a request from the server)."""
    stop = buf.find(b"\r\n\r\n", i)
    if stop < 0:
        if len(buf) - i > MAX_MESSAGE:
            raise RtspError("response head too long")
        return -1, None
    answer = parse_answer(bytes(buf[i:stop]))
    try:
        length = answer.content_length
    except ValueError as exc:
        raise RtspError(str(exc)) from None
    if length > MAX_MESSAGE:
        raise RtspError("response body too long")
    end = stop + 4 + length
    if end > len(buf):
        return -1, None
    answer.body = bytes(buf[stop + 4 : end])
    return end, answer


class RtspClient:
    """RTSP over one TCP connection, opened at once. `request` sends exactly what it is given
    (with the CSeq, and credentials once challenged); `setup` keeps the session, which `play`,
    `keepalive` and `teardown` then name."""

    def __init__(
        self,
        port: int,
        host: str = "127.0.0.1",
        *,
        user: str = "",
        password: str = "",
        timeout_s: float = 10.0,
        rcvbuf: int | None = None,
        agent: str | None = None,
    ) -> None:
        if rcvbuf is None:
            self.sock = socket.create_connection((host, port), timeout=timeout_s)
        else:  # set before connecting: the window is agreed then
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            self.sock.settimeout(timeout_s)
            self.sock.connect((host, port))
        self.user, self.password, self.agent = user, password, agent
        self.challenge: dict[str, str] | None = None  # the server's WWW-Authenticate
        self.buf = bytearray()
        self.cseq = 0
        self.session = ""
        self.keepalive_s = 30.0  # half the session's timeout

    def close(self) -> None:
        self.sock.close()

    # --- requests and answers --------------------------------------------------------------
    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send(self, method: str, url: str, headers: dict[str, str] | None = None) -> int:
        """Send a request without reading its answer; its CSeq."""
        self.cseq += 1
        given = {k.lower() for k in headers or {}}
        lines = [f"{method} {url} RTSP/1.0", f"CSeq: {self.cseq}"]
        if self.agent:
            lines.append(f"User-Agent: {self.agent}")
        if self.session and "session" not in given:
            lines.append(f"Session: {self.session}")
        if self.challenge is not None and "authorization" not in given:
            auth = answer_challenge(
                self.challenge, self.user, self.password, method, url, self.cseq
            )
            lines.append(f"Authorization: {auth}")
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        return self.cseq

    def fill(self) -> None:
        """Read what has come into `buf`."""
        chunk = self.sock.recv(RECV)
        if not chunk:
            raise RtspError("server closed the connection")
        self.buf += chunk

    def answer(self) -> Answer:
        """The next response (interleaved packets before it are skipped)."""
        while True:
            if self.buf[:1] == b"$":
                end = interleaved_end(self.buf)
                if end < 0:
                    self.fill()
                else:
                    del self.buf[:end]
                continue
            end, answer = message_at(self.buf)
            if answer is not None:
                break
            self.fill()
        if not answer.status:
            line = bytes(self.buf[:end]).split(b"\r\n")[0].decode("latin-1")
            raise RtspError(f"not an RTSP response: {line[:80]!r}")
        del self.buf[:end]
        return answer

    def request(self, method: str, url: str, headers: dict[str, str] | None = None) -> Answer:
        """Send a request and read its answer; a first 401 is answered with the credentials."""
        self.send(method, url, headers)
        answer = self.answer()
        if answer.status == 401 and self.user and self.challenge is None:
            self.challenge = parse_challenge(answer.headers.get("www-authenticate", ""))
            self.send(method, url, headers)
            answer = self.answer()
        return answer

    def ask(self, method: str, url: str, headers: dict[str, str] | None = None) -> Answer:
        """`request`, an answer other than 200 an RtspError."""
        answer = self.request(method, url, headers)
        if answer.status != 200:
            raise RtspError(f"{method} answered {answer.status}")
        return answer

    # --- the session -----------------------------------------------------------------------
    def describe(self, url: str) -> Description:
        """DESCRIBE: the codec, the URL to PLAY and the track to SET UP (from the SDP)."""
        answer = self.ask("DESCRIBE", url, {"Accept": "application/sdp"})
        base = answer.headers.get("content-base", url).rstrip("/")
        codec, control = "", ""
        for line in answer.body.decode("latin-1").splitlines():
            if line.startswith("a=rtpmap:"):
                enc = line.split(" ", 1)[1].split("/")[0].lower()
                codec = {"h264": "h264", "h265": "h265", "jpeg": "mjpeg"}.get(enc, enc)
            elif line.startswith("a=control:") and line[10:] != "*":
                control = line[10:].strip()
        track = control if "://" in control else f"{base}/{control}" if control else base
        return Description(codec, base, track)

    def setup(self, track: str, transport: str = INTERLEAVED) -> Answer:
        """SETUP the track with this Transport; the session and its keep-alive are kept."""
        answer = self.ask("SETUP", track, {"Transport": transport})
        self.session = answer.session
        timeout = answer.session_timeout
        if timeout is not None:
            self.keepalive_s = max(1.0, timeout / 2)
        return answer

    def play(self, url: str, headers: dict[str, str] | None = None) -> Answer:
        return self.ask("PLAY", url, headers)

    def keepalive(self, url: str) -> int:
        """GET_PARAMETER, its answer left to whoever reads on; its CSeq."""
        return self.send("GET_PARAMETER", url)

    def teardown(self, url: str) -> int:
        """TEARDOWN, its answer left to whoever reads on; its CSeq."""
        return self.send("TEARDOWN", url)

    def open(self, url: str, transport: str = INTERLEAVED) -> str:
        """DESCRIBE and SETUP the stream's track; the session id."""
        self.setup(self.describe(url).track, transport)
        return self.session

    def start(self, url: str, transport: str = INTERLEAVED) -> str:
        """DESCRIBE, SETUP and PLAY; the session id."""
        description = self.describe(url)
        self.setup(description.track, transport)
        self.play(description.base)
        return self.session

    # --- what comes after PLAY -------------------------------------------------------------
    def packets(self, seconds: float) -> list[tuple[int, bytes]]:
        """Interleaved (channel, packet) pairs received during `seconds`."""
        out = []
        deadline = time.monotonic() + seconds
        self.sock.settimeout(0.5)
        while time.monotonic() < deadline:
            while self.buf[:1] == b"$":
                end = interleaved_end(self.buf)
                if end < 0:
                    break
                out.append((self.buf[1], bytes(self.buf[4:end])))
                del self.buf[:end]
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                continue
            if not data:
                break
            self.buf += data
        return out

    def closed_by_server(self, timeout: float = 10) -> bool:
        """True if the server closes the connection within `timeout` (data is drained)."""
        self.sock.settimeout(timeout)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                if not self.sock.recv(65536):
                    return True
        except ConnectionResetError:
            return True
        except TimeoutError:
            return False
        return False


def frames_in(packets: list[tuple[int, bytes]]) -> int:
    """RTP packets with the marker bit set on channel 0: whole frames received."""
    return sum(1 for ch, p in packets if ch == 0 and len(p) >= 12 and rtp_header(p)[1])


@dataclass
class UdpPorts:
    """A client's RTP and RTCP sockets on consecutive ports of 127.0.0.1."""

    rtp: socket.socket = field(init=False)
    rtcp: socket.socket = field(init=False)

    def __post_init__(self) -> None:
        for _ in range(50):
            self.rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.rtp.bind(("127.0.0.1", 0))
            self.rtcp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                self.rtcp.bind(("127.0.0.1", self.rtp.getsockname()[1] + 1))
                return
            except OSError:
                self.rtp.close()
                self.rtcp.close()
        raise OSError("no free UDP port pair")

    @property
    def transport(self) -> str:
        port = self.rtp.getsockname()[1]
        return f"RTP/AVP;unicast;client_port={port}-{port + 1}"

    def packets(self, seconds: float) -> list[bytes]:
        """RTP packets received during `seconds`."""
        out = []
        deadline = time.monotonic() + seconds
        self.rtp.settimeout(0.2)
        while time.monotonic() < deadline:
            try:
                out.append(self.rtp.recv(65536))
            except TimeoutError:
                continue
        return out

    def close(self) -> None:
        self.rtp.close()
        self.rtcp.close()
