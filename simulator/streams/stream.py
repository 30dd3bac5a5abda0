"""Camera streams: one per camera stream, shared by all of its clients, and those clients.

A stream replays its loop frame by frame. Frame slot n is due at `epoch + (n + phase) / fps`
(the pacer's clock) and carries RTP timestamp `(n + phase) * 90000 / fps`, so time stamps stay
monotonic across loop seams and pauses. Each frame is stamped once (sequence numbers,
timestamp, SSRC) and written to every client; a client whose socket buffer is full misses
frames until the next keyframe instead of delaying the others.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field

from simulator.streams.applier import FaultState
from simulator.streams.encoder import Clip
from simulator.streams.loop import Loop
from simulator.streams.metrics import StreamCounters
from simulator.streams.rtp import sei_data

CLOCK = 90_000  # RTP clock rate of every video payload format used here


@dataclass(eq=False, slots=True)
class Client:
    """One session's delivery of a stream: over its RTSP connection or to UDP ports."""

    session_id: str
    tcp: asyncio.Transport | None = None  # interleaved over the RTSP connection
    fd: int = -1  # its socket, written directly while the transport has nothing queued
    channel: int = 0
    rtp_addr: tuple[str, int] | None = None  # UDP destination
    rtcp_addr: tuple[str, int] | None = None
    playing: bool = False
    waiting_key: bool = True
    blocked: bool = False  # it waits for a keyframe because it stopped reading (TCP)
    frames: int = 0
    bytes: int = 0
    drops: int = 0


@dataclass(eq=False, slots=True)
class Stream:
    """A camera's main or sub stream: its loop(s), RTP state and clients."""

    camera: str
    name: str  # main | sub
    day: Loop
    night: Loop
    faults: FaultState
    ssrc: int
    phase: float  # fraction of a frame interval, spreads cameras over time
    offset: int  # loop position of slot 0
    seed: int
    clients: list[Client] = field(default_factory=list)
    seq: int = 0  # next sequence number, UDP layout
    seq_tcp: int = 0  # next sequence number, TCP layout (larger packets)
    n: int = 0  # next frame slot
    loop: Loop | None = None
    need_key: bool = True
    # Why it waits for a keyframe, so the frames it skips count where they belong:
    # start (keyframe_wait_skips), fault (fault_drops), late (late_skips).
    waits_for: str = field(default="start", init=False)
    running: bool = False
    last_sr: float = 0.0
    last_send: float = 0.0
    counters: StreamCounters = field(default_factory=StreamCounters)
    backlog_bytes: int = 0  # most a TCP client may leave unread before it misses frames
    period: float = field(init=False)  # seconds between frames
    ts_step: float = field(init=False)  # RTP clock ticks between frames
    ts_base: float = field(init=False)  # RTP timestamp of slot 0 (+ 0.5, to round down)
    sei_id: bytes = field(init=False)  # the camera's part of the SEI field
    rng: random.Random = field(init=False)  # draws of this stream's faults

    def __post_init__(self) -> None:
        self.period = 1.0 / self.clip.fps
        self.ts_step = CLOCK / self.clip.fps
        self.ts_base = self.phase * self.ts_step + self.ssrc + 0.5
        self.loop = self.day
        self.seq = self.seed & 0xFFFF
        self.seq_tcp = (self.seed >> 16) & 0xFFFF
        self.sei_id = sei_data(self.camera, 0)[:32]
        self.rng = random.Random(self.seed)

    @property
    def clip(self) -> Clip:
        return self.day.clip

    def rtp_ts(self, n: int) -> int:
        return int(n * self.ts_step + self.ts_base) & 0xFFFFFFFF

    def next_key(self, tcp: bool, now: float, thaw: int = 0) -> tuple[int, int]:
        """(sequence number, RTP timestamp) of the next keyframe a new client gets: the first
        at or after slot `thaw` (a freeze withholds the frames before it: no packets)."""
        loop = self.loop or self.day
        f = self.faults
        frames = loop.with_filler(f.spike_factor) if f.spike_until > now else loop.frames
        count = len(frames)
        n, seq = max(self.n, thaw), self.seq_tcp if tcp else self.seq
        counting = not self.need_key and thaw <= self.n
        for _ in range(count):
            wf = frames[(n + self.offset) % count]
            if wf.key:
                break
            if counting:
                seq += wf.tcp.packets if tcp else wf.udp.packets
            n += 1
        return seq & 0xFFFF, self.rtp_ts(n)
