"""An RTSP 1.0 viewer on a plain socket (gevent-friendly once monkey-patched; no PyAV or
OpenCV): DESCRIBE, SETUP (RTP over the RTSP connection, interleaved), PLAY, then it reads
RTP for a while and measures what a viewer sees.

Frames end at the RTP marker bit; keyframes and the camera-to-viewer latency are read from
the payloads (`simulator.streams.rtp`); credentials answer the server's challenge
(`simulator.streams.auth`).
"""

from __future__ import annotations

import json
import socket
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from simulator.streams.auth import answer_challenge, parse_challenge
from simulator.streams.rtp import SEI_FIELD, SEI_UUID, keyframe_at, sei_time

MAX_MESSAGE = 65536  # bytes of one RTSP response head + body
RECV = 262144


class RtspError(Exception):
    """The server refused or broke the session (one line)."""


@dataclass
class ViewStats:
    """What one viewing measured (times in seconds)."""

    describe_s: float = 0.0
    setup_s: float = 0.0
    play_s: float = 0.0
    first_frame_s: float | None = None  # from sending PLAY to the first whole frame
    first_keyframe_s: float | None = None
    frames: int = 0
    keyframes: int = 0
    packets: int = 0
    seq_gaps: int = 0  # RTP packets missing (sequence numbers skipped)
    payload_bytes: int = 0
    wire_bytes: int = 0  # interleaved RTP as sent: the 4-byte "$" frame, RTP header, payload
    drained: bool = False  # read up to TEARDOWN's answer: all the server sent was counted
    max_frame_gap_s: float = 0.0  # longest time between two frames' arrival
    seconds: float = 0.0  # of reading after PLAY
    latencies: list[float] = field(default_factory=list)  # SEI latency of each frame, bounded
    codec: str = ""

    @property
    def bitrate_bps(self) -> float:
        return self.payload_bytes * 8 / self.seconds if self.seconds > 0 else 0.0


MAX_LATENCIES = 100_000


class RtspViewer:
    """One RTSP session over TCP: `watch(seconds)` does the whole viewing."""

    def __init__(self, url: str, timeout_s: float = 10.0) -> None:
        u = urlsplit(url)
        if u.scheme != "rtsp" or not u.hostname:
            raise RtspError(f"not an rtsp:// URL: {url}")
        self.host, self.port = u.hostname, u.port or 554
        self.user, self.password = unquote(u.username or ""), unquote(u.password or "")
        self.url = u._replace(netloc=u.netloc.rpartition("@")[2]).geturl()  # no credentials
        self.challenge: dict[str, str] | None = None  # the server's WWW-Authenticate
        self.timeout_s = timeout_s
        self.sock: socket.socket | None = None
        self.buf = bytearray()
        self.cseq = 0
        self.session = ""
        self.keepalive_s = 30.0
        # the packet reader's state between reads: last RTP seq, last frame's arrival, whether
        # the frame being read has a keyframe NAL and its SEI latency
        self._rx: tuple[int | None, float | None, bool, float | None] = (None, None, False, None)

    # --- the RTSP conversation -------------------------------------------------------------
    def _send(self, method: str, url: str, headers: dict[str, str] | None = None) -> None:
        self.cseq += 1
        lines = [f"{method} {url} RTSP/1.0", f"CSeq: {self.cseq}", "User-Agent: camsim-viewer"]
        if self.session:
            lines.append(f"Session: {self.session}")
        if self.challenge is not None:
            auth = answer_challenge(
                self.challenge, self.user, self.password, method, url, self.cseq
            )
            lines.append(f"Authorization: {auth}")
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        assert self.sock is not None
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())

    def _fill(self) -> None:
        assert self.sock is not None
        chunk = self.sock.recv(RECV)
        if not chunk:
            raise RtspError("server closed the connection")
        self.buf += chunk

    def _response(self) -> tuple[int, dict[str, str], bytes]:
        """The next RTSP response (interleaved packets before it are skipped)."""
        while True:
            while self.buf[:1] == b"$":
                if len(self.buf) < 4:
                    self._fill()
                    continue
                size = 4 + (self.buf[2] << 8 | self.buf[3])
                while len(self.buf) < size:
                    self._fill()
                del self.buf[:size]
            end = self.buf.find(b"\r\n\r\n")
            if end >= 0 and self.buf[:1] != b"$":
                break
            if len(self.buf) > MAX_MESSAGE:
                raise RtspError("response head too long")
            self._fill()
        head = bytes(self.buf[:end]).decode("latin-1").split("\r\n")
        headers = {}
        for line in head[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        length = int(headers.get("content-length", "0"))
        if length > MAX_MESSAGE:
            raise RtspError("response body too long")
        while len(self.buf) < end + 4 + length:
            self._fill()
        body = bytes(self.buf[end + 4 : end + 4 + length])
        del self.buf[: end + 4 + length]
        parts = head[0].split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("RTSP/") or not parts[1].isdigit():
            raise RtspError(f"not an RTSP response: {head[0][:80]!r}")
        return int(parts[1]), headers, body

    def _ask(self, method: str, url: str, headers: dict[str, str] | None = None):  # noqa: ANN202
        self._send(method, url, headers)
        status, h, body = self._response()
        if status == 401 and self.user and self.challenge is None:
            self.challenge = parse_challenge(h.get("www-authenticate", ""))
            self._send(method, url, headers)
            status, h, body = self._response()
        if status != 200:
            raise RtspError(f"{method} answered {status}")
        return h, body

    def open(self) -> tuple[str, str, str]:
        """Connect and DESCRIBE: (codec, the URL to PLAY, the track to SET UP)."""
        self.sock = socket.create_connection((self.host, self.port), timeout=self.timeout_s)
        h, sdp = self._ask("DESCRIBE", self.url, {"Accept": "application/sdp"})
        base = h.get("content-base", self.url).rstrip("/")
        codec, control = "", ""
        for line in sdp.decode("latin-1").splitlines():
            if line.startswith("a=rtpmap:"):
                enc = line.split(" ", 1)[1].split("/")[0].lower()
                codec = {"h264": "h264", "h265": "h265", "jpeg": "mjpeg"}.get(enc, enc)
            elif line.startswith("a=control:") and line[10:] != "*":
                control = line[10:].strip()
        track = control if "://" in control else f"{base}/{control}" if control else base
        return codec, base, track

    def watch(self, seconds: float) -> ViewStats:
        """The whole viewing: open, PLAY, read for `seconds`, TEARDOWN."""
        st = ViewStats()
        t0 = time.perf_counter()
        try:
            self.sock = None
            codec, base, track = self._open_timed(st, t0)
            st.codec = codec
            t1 = time.perf_counter()
            self._send("PLAY", base, {"Range": "npt=0.000-"})
            status, _, _ = self._response()
            if status != 200:
                raise RtspError(f"PLAY answered {status}")
            st.play_s = time.perf_counter() - t1
            self._read(st, seconds, t1)
            self._send("TEARDOWN", base)
            # what the server sent before it read TEARDOWN is counted: its answer comes after
            try:
                self._read(st, self.timeout_s, t1, until_cseq=self.cseq)
                st.drained = True
            except (RtspError, OSError):
                pass  # counted what came; `drained` says the count may be short
        finally:
            if self.sock is not None:
                self.sock.close()
        return st

    def _open_timed(self, st: ViewStats, t0: float) -> tuple[str, str, str]:
        codec, base, track = self.open()
        st.describe_s = time.perf_counter() - t0
        t = time.perf_counter()
        h, _ = self._ask("SETUP", track, {"Transport": "RTP/AVP/TCP;unicast;interleaved=0-1"})
        self.session = h.get("session", "").split(";")[0]
        timeout = h.get("session", "").partition("timeout=")[2]
        if timeout.isdigit():
            self.keepalive_s = max(1.0, int(timeout) / 2)
        st.setup_s = time.perf_counter() - t
        return codec, base, track

    # --- RTP -------------------------------------------------------------------------------
    def _read(
        self, st: ViewStats, seconds: float, play_sent: float, until_cseq: int | None = None
    ) -> None:
        """Read RTP for `seconds` (keeping the session alive), or, with `until_cseq`, until
        the answer to that request has come (at most `seconds`). The hot loop keeps its
        counts in locals and reads packets in place (no copy of a payload)."""
        assert self.sock is not None
        sock, buf, codec = self.sock, self.buf, st.codec
        start = time.perf_counter()
        end = start + seconds
        next_keepalive = start + self.keepalive_s if until_cseq is None else float("inf")
        last_seq, last_frame, frame_has_key, frame_latency = self._rx
        packets = payload = wire = gaps = frames = 0
        answered = False
        try:
            while not answered:
                now = time.perf_counter()
                if now >= end:
                    break
                if now >= next_keepalive:
                    self._send("GET_PARAMETER", self.url)
                    next_keepalive = now + self.keepalive_s
                sock.settimeout(max(0.001, min(end, next_keepalive) - now))
                try:
                    chunk = sock.recv(RECV)
                except TimeoutError:
                    continue
                if not chunk:
                    raise RtspError("server closed the connection")
                buf += chunk
                i, n = 0, len(buf)
                arrived = time.perf_counter()
                while i + 4 <= n:
                    if buf[i] != 0x24:  # an RTSP response (keep-alive answer) amid the packets
                        stop = buf.find(b"\r\n\r\n", i)
                        if stop < 0:
                            break
                        length = 0
                        head = bytes(buf[i:stop]).lower()
                        k = head.find(b"content-length:")
                        if k >= 0:
                            length = int(head[k + 15 :].split(b"\r\n")[0])
                        if stop + 4 + length > n:
                            break
                        i = stop + 4 + length
                        if until_cseq is not None and _cseq(head) == until_cseq:
                            answered = True
                            break
                        continue
                    size = buf[i + 2] << 8 | buf[i + 3]
                    e = i + 4 + size
                    if e > n:
                        break
                    if buf[i + 1] == 0 and size >= 12:
                        p = i + 4
                        wire += 4 + size
                        seq = buf[p + 2] << 8 | buf[p + 3]
                        if last_seq is not None:
                            ahead = (seq - last_seq - 1) & 0xFFFF
                            if ahead < 0x8000:
                                gaps += ahead
                        last_seq = seq
                        marker = buf[p + 1] & 0x80
                        p += 12 + 4 * (buf[p] & 0x0F)
                        packets += 1
                        payload += e - p
                        if not frame_has_key and keyframe_at(codec, buf, p, e):
                            frame_has_key = True
                        if frame_latency is None:
                            k = buf.find(SEI_UUID, p, min(e, p + 256))
                            if k >= 0:
                                k += len(SEI_UUID)
                                sent = sei_time(buf[k : k + SEI_FIELD])
                                if sent is not None:
                                    frame_latency = time.time() - sent
                        if marker:  # the frame's last packet
                            frames += 1
                            if st.first_frame_s is None:
                                st.first_frame_s = arrived - play_sent
                            if frame_has_key:
                                st.keyframes += 1
                                if st.first_keyframe_s is None:
                                    st.first_keyframe_s = arrived - play_sent
                            if last_frame is not None and arrived - last_frame > st.max_frame_gap_s:
                                st.max_frame_gap_s = arrived - last_frame
                            last_frame = arrived
                            if frame_latency is not None and len(st.latencies) < MAX_LATENCIES:
                                st.latencies.append(frame_latency)
                            frame_has_key, frame_latency = False, None
                    i = e
                del buf[:i]
        finally:
            self._rx = (last_seq, last_frame, frame_has_key, frame_latency)
            st.packets += packets
            st.payload_bytes += payload
            st.wire_bytes += wire
            st.seq_gaps += gaps
            st.frames += frames
            st.seconds += time.perf_counter() - start
        if until_cseq is not None and not answered:
            raise RtspError(f"no answer to request {until_cseq} within {seconds:g} s")


def _cseq(head: bytes) -> int | None:
    """The CSeq of a (lower-cased) RTSP response head."""
    k = head.find(b"cseq:")
    if k < 0:
        return None
    value = head[k + 5 :].split(b"\r\n")[0].strip()
    return int(value) if value.isdigit() else None


def rtsp_urls(where: str) -> list[str]:
    """The main-stream URLs of camsim serve's /api/cameras, or the lines of a file."""
    if where.startswith(("http://", "https://")):
        with urllib.request.urlopen(where, timeout=10) as resp:  # noqa: S310 - a named host
            cameras = json.load(resp)
        return [c["streams"]["main"]["url"] for c in cameras if "main" in c.get("streams", {})]
    lines = Path(where).read_text().split()
    return [u for u in lines if u.startswith("rtsp://")]
