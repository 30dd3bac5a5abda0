"""The soak's well-behaved viewers, a process of their own beside the lab: TCP interleaved
sessions (like a recorder) read whole, each frame's arrival noted when its last RTP packet
(marker bit) arrives and its send time read from its SEI. The gap between frames, worst per
minute and the worst ones, with the serve's share (the send times' gap) and the timeline
events (GET /api/timeline, fetched in a thread of its own) applied to their camera, district
or link around them, which explain a gap; the process's own stalls beside them. A viewer cut
off reconnects; the gap spans the cut. Written as JSON every 5 s.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import selectors
import socket
import struct
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from hostile import rtsp, write_json

from simulator.streams.client import RtspClient, RtspError
from simulator.streams.heap import map_large_blocks
from simulator.streams.rtp import SEI_FIELD, SEI_UUID, sei_time
from simulator.timeline.kinds import KINDS

EXPLAIN_OVER_S = 0.15  # a minute's worst gap above this is matched with the timeline
OWN_STALL_S = 0.1  # the viewers' process noting its own loop stalls (it waited this long)

# -- the well-behaved viewers ---------------------------------------------------------------------


@dataclass
class Viewer:
    """One TCP interleaved session read whole; frames timed by their RTP marker bit."""

    url: str
    camera: str
    district: str
    sock: socket.socket | None = None
    session: str = ""
    buf: bytearray = field(default_factory=bytearray)
    last_frame: float | None = None  # wall time of the last frame's end
    frames: int = 0
    reconnects: int = 0
    next_ping: float = 0.0
    next_try: float = 0.0
    # minute of the run → its worst gap: (gap, wall time of the frame before, of the frame
    # after, the gap between their send times in their SEI: the server's own share)
    by_minute: dict[int, tuple[float, float, float, float]] = field(default_factory=dict)
    worst: list[tuple[float, float, float, float]] = field(default_factory=list)
    sent: float | None = None  # the send time in the SEI of the frame being read
    last_sent: float | None = None  # of the last frame read whole
    in_frame: bool = False  # a packet of the current frame was read

    def connect(self, port: int) -> None:
        """DESCRIBE, SETUP over TCP and PLAY; what came after the PLAY's answer is kept."""
        client = RtspClient(port, rcvbuf=1 << 20)
        try:
            client.start(self.url)
        except (RtspError, OSError):
            client.close()
            raise
        client.sock.setblocking(False)
        self.sock, self.session, self.buf = client.sock, client.session, client.buf
        self.next_ping = time.monotonic() + 20

    def drop(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self.sock = None
        self.reconnects += 1
        self.next_try = time.monotonic() + 1

    def feed(self, data: bytes | memoryview, now: float, t0: float, keep: int = 10) -> bool:
        """Take bytes (copied: `data` may be reused); False when the stream lost its framing."""
        self.buf += data
        buf, i, n = self.buf, 0, len(self.buf)
        while i < n:
            if buf[i] == 0x24:
                if n - i < 4:
                    break
                size = struct.unpack_from(">H", buf, i + 2)[0]
                if n - i < 4 + size:
                    break
                if buf[i + 1] == 0 and size >= 2:
                    if not self.in_frame:  # a frame's first packet: its SEI, if any
                        self.in_frame = True
                        j = buf.find(SEI_UUID, i + 16, i + 4 + size)
                        end = j + len(SEI_UUID) + SEI_FIELD
                        if j >= 0 and end <= i + 4 + size:
                            self.sent = sei_time(buf[j + len(SEI_UUID) : end])
                    if buf[i + 5] & 0x80:
                        self.in_frame = False
                        self._frame(now, t0, keep)
                i += 4 + size
            elif buf.startswith(b"RTSP/1.0 ", i):
                end = buf.find(b"\r\n\r\n", i)
                if end < 0:
                    break
                m = re.search(rb"Content-Length: (\d+)", bytes(buf[i:end]))
                i = end + 4 + (int(m.group(1)) if m else 0)
            else:
                del buf[:]
                return False
        del buf[: min(i, n)]
        return True

    def _frame(self, now: float, t0: float, keep: int) -> None:
        self.frames += 1
        sent, self.sent = self.sent, None
        if self.last_frame is not None:
            gap = now - self.last_frame
            send_gap = -1.0 if sent is None or self.last_sent is None else sent - self.last_sent
            minute = int((now - t0) // 60)
            if gap > self.by_minute.get(minute, (0.0,))[0]:
                self.by_minute[minute] = (gap, self.last_frame, now, send_gap)
            if len(self.worst) < keep or gap > self.worst[-1][0]:
                self.worst.append((gap, self.last_frame, now, send_gap))
                self.worst.sort(reverse=True)
                del self.worst[keep:]
        self.last_frame, self.last_sent = now, sent


def _follow(api: str, events: dict[int, dict], errors: list[str], lock: threading.Lock,
            stop) -> None:  # fmt: skip
    """Fetch the timeline's applied events every 3 s into `events` (the last 2000), in a
    thread of its own: a slow answer from serve must not hold up the frames' timing."""
    while not stop.is_set():
        seen: dict[int, dict] = {}
        try:
            _events(api, seen)
        except (OSError, ValueError) as exc:
            with lock:
                if len(errors) < 20:
                    errors.append(f"timeline: {type(exc).__name__}")
        with lock:
            for k, a in seen.items():
                events.setdefault(k, a)
            while len(events) > 2000:
                events.pop(min(events))
        stop.wait(3)


def _events(api: str, seen: dict[int, dict]) -> None:
    """Add the timeline's applied events not seen yet (bounded by the caller)."""
    with urllib.request.urlopen(api.rstrip("/") + "/api/timeline", timeout=10) as r:
        for a in json.loads(r.read())["applied"]:
            seen.setdefault(a["seq"], a)


def explain(v: Viewer, start: float, end: float, events: dict[int, dict], slack: float = 2.0
            ) -> list[str]:  # fmt: skip
    """The timeline events applied around a gap to the viewer's camera, its district, a link or
    the city (a link's cameras are not known here: any link counts); operators' actions do not
    touch the stream."""
    out = []
    for a in events.values():
        kind = KINDS.get(a.get("kind", ""))
        if kind is not None and kind.family == "action":
            continue
        until = a.get("until") or a["wall"]
        if a["wall"] > end + slack or until < start - slack:
            continue
        if a.get("camera") not in (None, v.camera):
            continue
        if a.get("district") not in (None, v.district):
            continue
        out.append(f"{a['kind']}@{a['wall'] - start:+.1f}s")
    return out


def run_viewers(rtsp_port: int, api: str, cams: list[tuple[str, str, str]], stop,
                status: Path, keep: int = 10) -> None:  # fmt: skip
    """The viewers' process: one viewer per (url, camera, district) until `stop` is set."""
    viewers = [Viewer(u, c, d) for u, c, d in cams]
    events: dict[int, dict] = {}
    errors: list[str] = []
    sel = selectors.DefaultSelector()
    t0 = time.time()
    next_write = time.monotonic()
    lock = threading.Lock()
    threading.Thread(target=_follow, args=(api, events, errors, lock, stop), daemon=True).start()
    buf = bytearray(1 << 18)
    view = memoryview(buf)  # a read is appended to its viewer's buffer without a copy of it
    # blocks of 128 KiB and more mapped alone, as in serve: without it glibc raises its mmap
    # threshold as such blocks are freed and keeps a bitrate spike's peak in its heap
    map_large_blocks()
    # this process's own stalls, the last 500: [wall time, seconds of work outside select,
    # seconds runnable but waiting for a CPU, the part of the loop that took longest (its
    # seconds)] when either was over OWN_STALL_S
    own: list[list[float]] = []
    sched = os.open("/proc/thread-self/schedstat", os.O_RDONLY)
    wait0 = int(os.pread(sched, 96, 0).split()[1]) / 1e9
    after = time.monotonic()  # when the last select returned
    parts: dict[str, float] = {}  # the last loop's work outside select, by part
    while not stop.is_set():
        mono = time.monotonic()
        for v in viewers:
            if v.sock is None and mono >= v.next_try:
                try:
                    v.connect(rtsp_port)
                    sel.register(v.sock, selectors.EVENT_READ, v)
                except (OSError, RtspError) as exc:
                    v.sock = None
                    v.next_try = mono + 2
                    if len(errors) < 20:
                        errors.append(f"{v.camera}: {type(exc).__name__}: {str(exc)[:80]}")
            if v.sock is not None and mono >= v.next_ping:
                v.next_ping = mono + 20
                with contextlib.suppress(OSError):
                    v.sock.send(
                        rtsp("GET_PARAMETER", v.url, f"CSeq: 9\r\nSession: {v.session}\r\n")
                    )
        picked = time.monotonic()
        parts["connect"] = picked - mono
        ready = sel.select(0.2)
        wait1 = int(os.pread(sched, 96, 0).split()[1]) / 1e9
        if wait1 - wait0 > OWN_STALL_S or picked - after > OWN_STALL_S:
            part = max(parts, key=parts.__getitem__)
            own.append([round(time.time(), 3), round(picked - after, 3), round(wait1 - wait0, 3),
                        f"{part} {parts[part]:.3f}"])  # fmt: skip
            del own[:-500]
        parts.clear()
        wait0, after = wait1, time.monotonic()
        for key, _ in ready:
            v = key.data
            try:
                n = v.sock.recv_into(buf)
            except BlockingIOError:
                continue
            except OSError:
                n = 0
            if not n or not v.feed(view[:n], time.time(), t0, keep):
                sel.unregister(v.sock)
                v.drop()
        parts["read"] = time.monotonic() - after
        if mono >= next_write:
            next_write = mono + 5
            w = time.monotonic()
            with lock:
                write_json(status, _viewers_json(viewers, events, errors, t0, own))
            parts["write"] = time.monotonic() - w
    os.close(sched)
    for v in viewers:
        if v.sock is not None:
            v.sock.close()
    write_json(status, _viewers_json(viewers, events, errors, t0, own))


def _viewers_json(viewers: list[Viewer], events: dict[int, dict], errors: list[str],
                  t0: float, own: list[list[float]]) -> dict:  # fmt: skip
    return {
        "t0": t0,
        "errors": errors,
        "own_stalls": own,
        "viewers": [
            {
                "camera": v.camera,
                "frames": v.frames,
                "reconnects": v.reconnects,
                "by_minute": {
                    m: [
                        round(g, 4),
                        round(a - t0, 1),
                        explain(v, a, b, events) if g > EXPLAIN_OVER_S else [],
                        round(sg, 4),
                    ]
                    for m, (g, a, b, sg) in v.by_minute.items()
                },  # fmt: skip
                "worst": [
                    {
                        "gap_s": round(g, 4),
                        "at_s": round(a - t0, 3),
                        "send_gap_s": round(sg, 4),
                        "events": explain(v, a, b, events),
                    }
                    for g, a, b, sg in v.worst
                ],  # fmt: skip
            }
            for v in viewers
        ],
    }
