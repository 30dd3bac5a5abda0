"""The RTSP viewer's measurement: DESCRIBE, SETUP (RTP interleaved on the RTSP connection)
and PLAY through `simulator.streams.client` (a plain socket: gevent-friendly once
monkey-patched; no PyAV or OpenCV), then it reads RTP for a while and measures what a viewer
sees.

Frames end at the RTP marker bit; keyframes and the camera-to-viewer latency are read from
the payloads (`simulator.streams.rtp`).
"""

from __future__ import annotations

import json
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from simulator.streams.client import RECV, RtspClient, RtspError, StreamAddress, message_at
from simulator.streams.protocol import interleaved_end
from simulator.streams.records import cameras_from_json
from simulator.streams.rtp import SEI_FIELD, SEI_UUID, keyframe_at, rtp_header, sei_time

__all__ = ["RtspError", "RtspViewer", "ViewStats", "rtsp_urls"]


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
        self.where = StreamAddress.of(url)
        self.url = self.where.url  # no credentials
        self.timeout_s = timeout_s
        self.client: RtspClient | None = None
        # the packet reader's state between reads: last RTP seq, last frame's arrival, whether
        # the frame being read has a keyframe NAL and its SEI latency
        self._rx: tuple[int | None, float | None, bool, float | None] = (None, None, False, None)

    def watch(self, seconds: float) -> ViewStats:
        """The whole viewing: DESCRIBE, SETUP, PLAY, read for `seconds`, TEARDOWN."""
        st = ViewStats()
        t0 = time.perf_counter()
        w = self.where
        try:
            self.client = None
            c = self.client = RtspClient(
                w.port, w.host, user=w.user, password=w.password, timeout_s=self.timeout_s,
                agent="camsim-viewer",
            )  # fmt: skip
            d = c.describe(self.url)
            st.describe_s, st.codec = time.perf_counter() - t0, d.codec
            t = time.perf_counter()
            c.setup(d.track)
            st.setup_s = time.perf_counter() - t
            t1 = time.perf_counter()
            c.play(d.base, {"Range": "npt=0.000-"})
            st.play_s = time.perf_counter() - t1
            self._read(st, seconds, t1)
            teardown = c.teardown(d.base)
            # what the server sent before it read TEARDOWN is counted: its answer comes after
            try:
                self._read(st, self.timeout_s, t1, until_cseq=teardown)
                st.drained = True
            except (RtspError, OSError):
                pass  # counted what came; `drained` says the count may be short
        finally:
            if self.client is not None:
                self.client.close()
        return st

    def _read(
        self, st: ViewStats, seconds: float, play_sent: float, until_cseq: int | None = None
    ) -> None:
        """Read RTP for `seconds` (keeping the session alive), or, with `until_cseq`, until
        the answer to that request has come (at most `seconds`). The hot loop keeps its
        counts in locals and reads packets in place (no copy of a payload)."""
        c = self.client
        assert c is not None
        sock, buf, codec = c.sock, c.buf, st.codec
        start = time.perf_counter()
        end = start + seconds
        next_keepalive = start + c.keepalive_s if until_cseq is None else float("inf")
        last_seq, last_frame, frame_has_key, frame_latency = self._rx
        packets = payload = wire = gaps = frames = 0
        answered = False
        try:
            while not answered:
                now = time.perf_counter()
                if now >= end:
                    break
                if now >= next_keepalive:
                    c.keepalive(self.url)
                    next_keepalive = now + c.keepalive_s
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
                        e, answer = message_at(buf, i)
                        if e < 0:
                            break
                        i = e
                        if until_cseq is not None and answer and answer.cseq == until_cseq:
                            answered = True
                            break
                        continue
                    e = interleaved_end(buf, i)
                    if e < 0:
                        break
                    size = e - i - 4
                    if buf[i + 1] == 0 and size >= 12:
                        wire += 4 + size
                        seq, marker, p = rtp_header(buf, i + 4)
                        if last_seq is not None:
                            ahead = (seq - last_seq - 1) & 0xFFFF
                            if ahead < 0x8000:
                                gaps += ahead
                        last_seq = seq
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


def rtsp_urls(where: str) -> list[str]:
    """The main-stream URLs of camsim serve's /api/cameras, or the lines of a file."""
    if where.startswith(("http://", "https://")):
        with urllib.request.urlopen(where, timeout=10) as resp:  # noqa: S310 - a named host
            cameras = cameras_from_json(json.load(resp))
        return [c.main.url for c in cameras if "main" in c.streams]
    lines = Path(where).read_text().split()
    return [u for u in lines if u.startswith("rtsp://")]
