"""Loops: a clip packetised for the wire once, shared by every stream that replays it.

Each frame is packetised twice (UDP and TCP layouts), with a placeholder SEI message before
its first slice when the camera id and send time are to ride along; a bitrate spike replays
the same loop with filler NAL units. A spiked copy is the loop's own packets with the filler's
packets after them, cut from buffers every filler shares (filler.py): it holds
references and headers, about 80 bytes a packet, not payload bytes, so a spike's memory is
small and goes back whole (a copy of whole packets left ~1.8 MB of heap per spike, growing
with its factor: benchmarks/bench_spike_memory.py). It is built in a worker thread (the stream
sends its frames unspiked meanwhile) and a loop keeps at most SPIKED_KEPT of them, the least
recently used dropped first, and builds one at a time, so distinct factors cost neither
unbounded memory nor a stall. A copy no stream has asked for in RELEASE_AFTER_S (a spiked
stream asks at every frame) is dropped, so a spike's memory goes when the spike ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from simulator.streams.encoder import Clip
from simulator.streams.filler import filler_h264, filler_h265, filler_len, filler_payloads
from simulator.streams.heap import return_to_os
from simulator.streams.rtp import (
    PAYLOAD_MAX,
    PAYLOAD_TYPES,
    TCP_PAYLOAD_MAX,
    WireFrame,
    extended,
    layout,
    packetize,
    sei_nal,
    wire_frame,
)

SPIKED_KEPT = 2  # spiked copies of a loop kept at once (least recently used dropped)
RELEASE_AFTER_S = 5.0  # a spiked copy no stream asked for in this long is dropped


@dataclass
class Loop:
    """A clip packetised for the wire, shared by every stream that replays it."""

    clip: Clip
    frames: list[WireFrame]
    sei: bool = True
    spiked: OrderedDict[float, list[WireFrame]] = field(default_factory=OrderedDict)
    building: float | None = None  # the factor being built now (one at a time)
    # the end of a spike is a time, not an event: a copy goes once no stream asks for it
    asked: dict[float, float] = field(default_factory=dict, init=False)  # factor → monotonic
    _sweep: asyncio.TimerHandle | None = field(default=None, init=False, repr=False)

    @classmethod
    def of(cls, clip: Clip, sei: bool = True) -> Loop:
        """Packetise a clip; with `sei`, every H.26x frame carries camera id and send time."""
        pairs = zip(clip.frames, clip.keyframes, strict=True)
        return cls(clip, [_frame(clip.codec, u, k, sei) for u, k in pairs], sei)

    def with_filler(self, factor: float) -> list[WireFrame]:
        """The loop with filler NAL units making it `factor` times bigger (JPEG: unchanged).

        On the event loop a missing copy is built in a worker thread, one at a time, and the
        loop as it is answers until then; without a running event loop it is built at once."""
        factor = round(factor, 1)
        if factor <= 1 or self.clip.codec not in ("h264", "h265"):
            return self.frames
        self.asked[factor] = time.monotonic()
        frames = self.spiked.get(factor)
        if frames is not None:
            self.spiked.move_to_end(factor)
            return frames
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._keep(factor, self.spiked_frames(factor))
            return self.spiked[factor]
        if self.building is None:
            self.building = factor
            fut = loop.run_in_executor(None, self.spiked_frames, factor)
            fut.add_done_callback(lambda f: self._built(factor, f))
        return self.frames

    def spiked_frames(self, factor: float) -> list[WireFrame]:
        """A copy of the loop `factor` times bigger with filler NAL units (H.264/H.265).

        Each frame's layouts are the loop's own with the filler's packets after them, cut
        from buffers shared by every filler (filler.py): the copy holds references,
        not payload bytes. An H.264 frame whose filler fits in one packet is built whole
        (packetize aggregates it with the frame's last NAL units); such frames are small."""
        c = self.clip
        filler = filler_h264 if c.codec == "h264" else filler_h265
        out = []
        pairs = zip(c.frames, c.keyframes, self.frames, strict=True)
        for k, (units, key, wf) in enumerate(pairs):
            size = int(sum(map(len, units)) * (factor - 1))
            lays = []
            for lay, mtu in ((wf.udp, PAYLOAD_MAX), (wf.tcp, TCP_PAYLOAD_MAX)):
                if c.codec == "h264" and filler_len(c.codec, size) <= mtu:
                    whole = _units(c.codec, [*units, filler(size)], self.sei)
                    payloads = packetize(c.codec, whole, mtu)
                    lays.append(layout(payloads, PAYLOAD_TYPES[c.codec], lay.tcp, self.sei))
                else:
                    lays.append(extended(lay, filler_payloads(c.codec, size, mtu)))
            out.append(WireFrame(key, *lays))
            if k % 16 == 15:
                time.sleep(0)  # in a worker thread: the event loop gets the GIL meanwhile
        return out

    def _built(self, factor: float, fut: asyncio.Future) -> None:
        self.building = None
        if not fut.cancelled() and fut.exception() is None:
            self._keep(factor, fut.result())

    def _keep(self, factor: float, frames: list[WireFrame]) -> None:
        self.spiked[factor] = frames
        while len(self.spiked) > SPIKED_KEPT:
            self.spiked.popitem(last=False)
        if self._sweep is None:
            with contextlib.suppress(RuntimeError):  # no event loop: release_idle by hand
                loop = asyncio.get_running_loop()
                self._sweep = loop.call_later(RELEASE_AFTER_S, self._swept)

    def release_idle(self, now: float | None = None) -> None:
        """Drop the spiked copies no stream asked for in RELEASE_AFTER_S before `now`
        (time.monotonic())."""
        now = time.monotonic() if now is None else now
        dropped = False
        for factor, when in list(self.asked.items()):
            if now - when >= RELEASE_AFTER_S:
                del self.asked[factor]
                dropped |= self.spiked.pop(factor, None) is not None
        if dropped:
            return_to_os()  # the copy was built in a worker thread's arena

    def _swept(self) -> None:
        self._sweep = None
        self.release_idle()
        if self.spiked:
            self._sweep = asyncio.get_running_loop().call_later(RELEASE_AFTER_S, self._swept)


def _frame(codec: str, units: list[bytes], key: bool, sei: bool) -> WireFrame:
    """Packetise one frame, with a placeholder SEI before its first slice if `sei`."""
    sei = sei and codec in ("h264", "h265")
    units = _units(codec, units, sei)
    udp, tcp = packetize(codec, units), packetize(codec, units, TCP_PAYLOAD_MAX)
    return wire_frame(udp, PAYLOAD_TYPES[codec], key, tcp, sei)


def _units(codec: str, units: list[bytes], sei: bool) -> list[bytes]:
    """A frame's NAL units, with a placeholder SEI before its first slice if `sei`."""
    if not (sei and codec in ("h264", "h265")):
        return units
    first = next((i for i, u in enumerate(units) if _vcl(codec, u)), 0)
    return [*units[:first], sei_nal(codec), *units[first:]]


def _vcl(codec: str, nal: bytes) -> bool:
    return 1 <= nal[0] & 0x1F <= 5 if codec == "h264" else (nal[0] >> 1) & 0x3F < 32
