"""A minimal blocking RTSP client on plain sockets, for the tests that need to misbehave."""

from __future__ import annotations

import socket
import struct
import time
from dataclasses import dataclass, field


@dataclass
class Answer:
    """An RTSP response."""

    status: int
    headers: dict[str, str]
    body: bytes = b""


@dataclass
class RawClient:
    """Speaks RTSP over one TCP connection; reads interleaved packets after PLAY."""

    port: int
    rcvbuf: int | None = None
    cseq: int = 0
    buf: bytearray = field(default_factory=bytearray)

    def __post_init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if self.rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.rcvbuf)
        self.sock.settimeout(10)
        self.sock.connect(("127.0.0.1", self.port))

    def close(self) -> None:
        self.sock.close()

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def request(self, method: str, url: str, headers: dict[str, str] | None = None) -> Answer:
        self.cseq += 1
        lines = [f"{method} {url} RTSP/1.0", f"CSeq: {self.cseq}"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        return self.read_answer()

    def read_answer(self) -> Answer:
        while True:
            while self.buf[:1] == b"$":  # skip interleaved media before the answer
                if len(self.buf) >= 4:
                    n = struct.unpack(">H", self.buf[2:4])[0]
                    if len(self.buf) >= 4 + n:
                        del self.buf[: 4 + n]
                        continue
                self._fill()
            end = self.buf.find(b"\r\n\r\n")
            if end >= 0 and self.buf[:4] == b"RTSP":
                head = bytes(self.buf[:end]).decode()
                lines = head.split("\r\n")
                status = int(lines[0].split(" ")[1])
                headers = {}
                for line in lines[1:]:
                    k, _, v = line.partition(":")
                    headers[k.strip().lower()] = v.strip()
                n = int(headers.get("content-length", "0"))
                while len(self.buf) < end + 4 + n:
                    self._fill()
                body = bytes(self.buf[end + 4 : end + 4 + n])
                del self.buf[: end + 4 + n]
                return Answer(status, headers, body)
            self._fill()

    def _fill(self) -> None:
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("closed by the server")
        self.buf += data

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

    def play_tcp(self, url: str, headers: dict[str, str] | None = None) -> str:
        """DESCRIBE, SETUP (interleaved 0-1) and PLAY; returns the session id."""
        h = headers or {}
        session = self.setup(url, "RTP/AVP/TCP;unicast;interleaved=0-1", h)
        assert self.request("PLAY", url, {**h, "Session": session}).status == 200
        return session

    def setup(self, url: str, transport: str, headers: dict[str, str] | None = None) -> str:
        """DESCRIBE and SETUP the track with this Transport header; returns the session id."""
        h = headers or {}
        assert self.request("DESCRIBE", url, h).status == 200
        a = self.request("SETUP", f"{url}/trackID=0", {**h, "Transport": transport})
        assert a.status == 200, a
        return a.headers["session"].split(";")[0]

    def packets(self, seconds: float) -> list[tuple[int, bytes]]:
        """Interleaved (channel, packet) pairs received during `seconds`."""
        out = []
        deadline = time.monotonic() + seconds
        self.sock.settimeout(0.5)
        while time.monotonic() < deadline:
            while len(self.buf) >= 4 and self.buf[:1] == b"$":
                n = struct.unpack(">H", self.buf[2:4])[0]
                if len(self.buf) < 4 + n:
                    break
                out.append((self.buf[1], bytes(self.buf[4 : 4 + n])))
                del self.buf[: 4 + n]
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                continue
            if not data:
                break
            self.buf += data
        return out


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


def rtp_info(value: str) -> tuple[int, int]:
    """(seq, rtptime) of a one-stream RTP-Info header."""
    fields = dict(f.partition("=")[::2] for f in value.split(";"))
    return int(fields["seq"]), int(fields["rtptime"])


def frames_in(packets: list[tuple[int, bytes]]) -> int:
    """RTP packets with the marker bit set on channel 0: whole frames received."""
    return sum(1 for ch, p in packets if ch == 0 and len(p) >= 12 and p[1] & 0x80)
