"""The pacer: sends every running stream's frames on time, on one asyncio event loop.

Streams wait in a heap by the due time of their next frame. A pass takes every frame due now,
decides what each client gets (faults, keyframe waits, slow clients), then writes it all; a
stream that falls far behind skips to the present and counts what it skipped as its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import math
import time
from dataclasses import dataclass, field

from simulator.streams.metrics import Histogram
from simulator.streams.output import UdpOut, kept_parts, write_tcp
from simulator.streams.rtp import interleave, sei_data, sender_report
from simulator.streams.stream import CLOCK, Client, Stream

SR_INTERVAL_S = 5.0
MIN_BACKLOG_BYTES = 64_000  # a client's backlog allowance, however low the stream's bitrate
MAX_PASS_S = 0.05  # longest stretch of sending before other work gets a turn
MAX_PASS_FRAMES = 256  # frames decided before they are written
RESYNC_AFTER_S = 0.5  # a stream later than this skips ahead to the current slot


@dataclass
class Pacer:
    """Sends every running stream's frames on time, on one asyncio event loop."""

    udp: UdpOut | None
    client_buffer_bytes: int | None = None  # a TCP client's backlog allowance, or by time:
    client_buffer_s: float = 2.0  # this much of the stream's video, as a camera buffers
    batch_s: float = 0.002  # frames due this soon are sent in the same pass (one timer each)
    lateness: Histogram = field(default_factory=Histogram)
    epoch: float = 0.0

    def __post_init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.epoch = self.epoch or self.loop.time()
        self._heap: list[tuple[float, int, Stream]] = []
        self._count = 0
        self._wake: asyncio.TimerHandle | None = None
        self._wake_at = 0.0
        self._sei_clock: bytes | None = None
        # What this pass writes (_flush), in order: per client of a frame (client, parts,
        # nbytes over TCP or the Layout over UDP, UDP packets kept or None, keyframe?, the
        # stream's counters), then (None, None, due, None, None, counters) after the frame.
        self._out: list[tuple] = []
        self._worst_late = 0.0  # since worst_late() was last asked

    def due(self, s: Stream, n: int) -> float:
        """When frame slot n of a stream is due, on the event loop's clock."""
        return self.epoch + (n + s.phase) * s.period

    def slot(self, s: Stream, t: float) -> int:
        """The first frame slot of a stream due at or after `t`."""
        return math.ceil((t - self.epoch) * s.clip.fps - s.phase)

    def next_key(self, s: Stream, tcp: bool) -> tuple[int, int]:
        """(sequence number, RTP timestamp) of the first packet a client that plays a stream
        now gets (start it first); frame drops are drawn as frames are sent, not foreseen."""
        now = self.loop.time()
        f = s.faults
        return s.next_key(tcp, now, self.slot(s, f.freeze_until) if f.freeze_until > now else 0)

    def start(self, s: Stream) -> None:
        """Start pacing a stream (no-op if it is running)."""
        if s.running:
            return
        s.running = True
        if not s.backlog_bytes:
            s.backlog_bytes = self.client_buffer_bytes or max(
                MIN_BACKLOG_BYTES, int(s.clip.bitrate_bps / 8 * self.client_buffer_s)
            )
        now = self.loop.time()
        s.n = max(s.n, self.slot(s, now))
        s.need_key = True
        s.waits_for = "start"
        s.last_send = 0.0
        self._push(self.due(s, s.n), s)

    def _push(self, due: float, s: Stream) -> None:
        self._count += 1
        heapq.heappush(self._heap, (due, self._count, s))
        if self._wake is None or due < self._wake_at:
            if self._wake is not None:
                self._wake.cancel()
            self._wake_at = due
            self._wake = self.loop.call_at(due, self._drain)

    def _drain(self) -> None:
        """Send every frame due now (or within `batch_s`), then sleep until the next one.

        A pass first decides what every due frame sends (`_tick`), then writes it all
        (`_flush`): the Python work and the system calls each run in one stretch, which
        keeps both in the CPU's caches. After MAX_PASS_S it yields, so RTSP requests and the
        API are answered even when the process cannot keep up (streams then resynchronise)."""
        self._wake = None
        heap = self._heap
        start = now = self.loop.time()
        horizon = now + self.batch_s
        while heap and heap[0][0] <= horizon:
            self._sei_clock = None
            for _ in range(MAX_PASS_FRAMES):
                if not heap or heap[0][0] > horizon:
                    break
                due, _, s = heapq.heappop(heap)
                self._tick(s, due, now)
            self._flush()
            now = time.monotonic()  # the event loop's clock
            if now - start > MAX_PASS_S:
                self._wake_at = now
                self._wake = self.loop.call_soon(self._drain)  # type: ignore[assignment]
                return
            horizon = now + self.batch_s
        if heap:
            self._wake_at = heap[0][0]
            self._wake = self.loop.call_at(self._wake_at, self._drain)

    def _sei(self, s: Stream) -> bytes:
        """The SEI field of a frame sent now: camera id and its wall clock (read once a pass)."""
        if s.faults.clock_offset_s:
            return sei_data(s.camera, time.time() + s.faults.clock_offset_s)
        if self._sei_clock is None:
            self._sei_clock = sei_data("", time.time())[32:]
        return s.sei_id + self._sei_clock

    def _tick(self, s: Stream, due: float, now: float) -> None:
        """Queue a stream's frame due at `due` (or resynchronise it) and schedule its next."""
        for c in s.clients:
            if c.playing:
                break
        else:
            s.running = False
            return
        if now - due > RESYNC_AFTER_S:  # far behind: skip to the present
            n = self.slot(s, now)
            skipped = max(0, n - s.n)
            s.counters.late_skips += skipped
            s.counters.frames_due += skipped
            s.n = n
            s.need_key = True
            s.waits_for = "late"
            s.counters.late_resyncs += 1
        else:
            s.counters.frames_due += 1
            self._send(s, due, now)
            s.n += 1
        if now - s.last_sr >= SR_INTERVAL_S:
            self._sender_report(s)
        nxt = self.due(s, s.n)
        f = s.faults
        if f.jitter_until > nxt and f.jitter_s > 0:
            nxt = max(nxt + s.rng.uniform(0, f.jitter_s), s.last_send)
        s.last_send = nxt
        self._count += 1
        heapq.heappush(self._heap, (nxt, self._count, s))

    def _send(self, s: Stream, due: float, now: float) -> None:
        """Queue frame `s.n` for every client that can take it (or withhold it for a fault)."""
        f = s.faults
        loop = s.loop
        assert loop is not None
        frames = loop.frames
        pos = (s.n + s.offset) % len(frames)
        if pos == 0:  # day/night switch at the loop seam (a keyframe)
            s.loop = loop = s.night if f.night else s.day
            frames = loop.frames
        if f.spike_until > now:
            frames = loop.with_filler(f.spike_factor)
        wf = frames[pos]
        if (
            f.offline
            or f.freeze_until > now
            or (f.drops_until > now and s.rng.random() < f.drop_rate)
        ):
            s.need_key = True
            s.waits_for = "fault"
            s.counters.fault_drops += 1
            return
        if s.need_key and not wf.key:  # charged to what made the stream wait for a keyframe
            k = s.counters
            if s.waits_for == "fault":
                k.fault_drops += 1
            elif s.waits_for == "late":
                k.late_skips += 1
            else:
                k.keyframe_wait_skips += 1
            return
        s.need_key = False
        ts = s.rtp_ts(s.n)
        key = wf.key
        udp_keep = tcp_keep = None
        if f.loss_until > now and f.loss_rate > 0:  # one draw per packet of each layout
            udp_keep = [s.rng.random() >= f.loss_rate for _ in wf.udp.heads]
            tcp_keep = [s.rng.random() >= f.loss_rate for _ in wf.tcp.heads]
        sei = b""
        tcp_parts: list | None = None  # gathered for tcp_channel, shared by its clients
        tcp_channel = -1
        udp_parts: list | None = None
        out = self._out
        k = s.counters
        blocked = False  # some client missed this frame because it stopped reading
        for c in s.clients:
            if not c.playing:
                continue
            if c.waiting_key and not key:
                blocked = blocked or c.blocked
                continue
            if c.tcp is not None:
                t = c.tcp
                if t.is_closing():
                    continue
                # the kernel's buffers are full and the client left this much unread: a
                # camera throws away what its client does not take (the client's loss)
                if t.get_write_buffer_size() > s.backlog_bytes:
                    c.drops += 1
                    c.waiting_key = c.blocked = blocked = True
                    k.client_drops += 1
                    continue
                lay = wf.tcp
                if c.channel != tcp_channel:
                    sei = sei or self._sei(s)
                    tcp_parts = lay.gather(s.seq_tcp, ts, s.ssrc, sei, c.channel)
                    tcp_channel = c.channel
                    if tcp_keep is not None:
                        tcp_parts = kept_parts(lay, tcp_parts, tcp_keep)
                size = lay.nbytes if tcp_keep is None else sum(map(len, tcp_parts))
                out.append((c, tcp_parts, size, None, key, k))
            elif c.rtp_addr is not None and self.udp is not None:
                if udp_parts is None:
                    sei = sei or self._sei(s)
                    udp_parts = wf.udp.gather(s.seq, ts, s.ssrc, sei)
                out.append((c, udp_parts, wf.udp, udp_keep, key, k))
            else:
                continue
            # from this frame on (a UDP send that fails sets it back: the server's own socket)
            c.waiting_key = c.blocked = False
        if blocked:
            k.target_drops += 1
        out.append((None, None, due, None, None, k))
        u, t = wf.udp, wf.tcp
        s.seq = (s.seq + len(u.heads)) & 0xFFFF
        s.seq_tcp = (s.seq_tcp + len(t.heads)) & 0xFFFF
        k.packets += len(u.heads)
        k.octets += u.payload_bytes
        k.tcp_packets += len(t.heads)
        k.tcp_octets += t.payload_bytes

    def _flush(self) -> None:
        """Write what `_send` queued: each frame to its clients, then count it and its
        lateness (send time after its due time)."""
        out, self._out = self._out, []
        observe = self.lateness.observe
        udp = self.udp
        sent = 0  # bytes of the current frame, all clients
        for c, parts, what, keep, key, k in out:
            if c is None:  # the frame due at `what` has gone to every client it could
                late = time.monotonic() - what
                late = late if late > 0.0 else 0.0
                observe(late)
                k.lateness_sum += late
                if late > k.lateness_max:
                    k.lateness_max = late
                if late > self._worst_late:
                    self._worst_late = late
                if sent:
                    k.frames_sent += 1
                    k.bytes_sent += sent
                    sent = 0
                continue
            if c.tcp is not None:
                write_tcp(c, parts, what)
                size = what
            else:
                assert udp is not None
                size = -1  # not sent: the socket is full, or was for an earlier frame
                if key or not c.waiting_key:
                    try:
                        size = udp.send(what, parts, c.rtp_addr, keep)
                    except BlockingIOError:
                        pass
                    except OSError:
                        continue
                if size < 0:
                    c.drops += 1
                    c.waiting_key = True
                    k.client_drops += 1
                    continue
            c.frames += 1
            c.bytes += size
            sent += size

    def worst_late(self) -> float:
        """The worst send lateness of a frame since the last call (seconds)."""
        worst, self._worst_late = self._worst_late, 0.0
        return worst

    def _sender_report(self, s: Stream, bye: bool = False) -> None:
        s.last_sr = self.loop.time()
        if s.counters.packets == 0 and not bye:
            return
        wall = time.time() + s.faults.clock_offset_s
        ts = s.rtp_ts(s.n) - int((self.due(s, s.n) - s.last_sr) * CLOCK)
        k = s.counters
        name = f"{s.camera}@camsim"
        pkt = sender_report(s.ssrc, wall, ts, k.packets, k.octets, name, bye)
        tcp_pkt = sender_report(s.ssrc, wall, ts, k.tcp_packets, k.tcp_octets, name, bye)
        for c in s.clients:
            if not c.playing:
                continue
            if c.tcp is not None and not c.tcp.is_closing():
                if c.tcp.get_write_buffer_size() <= s.backlog_bytes:
                    c.tcp.write(interleave(tcp_pkt, c.channel + 1))
            elif c.rtcp_addr is not None and self.udp is not None:
                with contextlib.suppress(OSError):
                    self.udp.rtcp.sendto(pkt, c.rtcp_addr)

    def goodbye(self, s: Stream, client: Client) -> None:
        """Send an RTCP BYE to a UDP client whose session ends."""
        if client.rtcp_addr is None or self.udp is None:
            return
        wall = time.time() + s.faults.clock_offset_s
        pkt = sender_report(
            s.ssrc,
            wall,
            s.rtp_ts(s.n),
            s.counters.packets,
            s.counters.octets,
            f"{s.camera}@camsim",
            True,
        )
        with contextlib.suppress(OSError):
            self.udp.rtcp.sendto(pkt, client.rtcp_addr)
