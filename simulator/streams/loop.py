"""Loops: a clip packetised for the wire once, shared by every stream that replays it.

Each frame is packetised twice (UDP and TCP layouts), with a placeholder SEI message before
its first slice when the camera id and send time are to ride along; a bitrate spike replays
the same loop with filler NAL units, built once per factor.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from simulator.streams.encoder import Clip
from simulator.streams.rtp import (
    PAYLOAD_TYPES,
    TCP_PAYLOAD_MAX,
    WireFrame,
    filler_h264,
    filler_h265,
    packetize,
    sei_nal,
    wire_frame,
)


@dataclass
class Loop:
    """A clip packetised for the wire, shared by every stream that replays it."""

    clip: Clip
    frames: list[WireFrame]
    sei: bool = True
    spiked: dict[float, list[WireFrame]] = field(default_factory=dict)

    @classmethod
    def of(cls, clip: Clip, sei: bool = True) -> Loop:
        """Packetise a clip; with `sei`, every H.26x frame carries camera id and send time."""
        pairs = zip(clip.frames, clip.keyframes, strict=True)
        return cls(clip, [_frame(clip.codec, u, k, sei) for u, k in pairs], sei)

    def with_filler(self, factor: float) -> list[WireFrame]:
        """The loop with filler NAL units making it `factor` times bigger (JPEG: unchanged)."""
        factor = round(factor, 1)
        if factor not in self.spiked:
            c = self.clip
            filler = {"h264": filler_h264, "h265": filler_h265}.get(c.codec)
            if filler is None or factor <= 1:
                self.spiked[factor] = self.frames
            else:
                self.spiked[factor] = [
                    _frame(
                        c.codec,
                        [*units, filler(int(sum(map(len, units)) * (factor - 1)))],
                        key,
                        self.sei,
                    )
                    for units, key in zip(c.frames, c.keyframes, strict=True)
                ]
        return self.spiked[factor]


def _frame(codec: str, units: list[bytes], key: bool, sei: bool) -> WireFrame:
    """Packetise one frame, with a placeholder SEI before its first slice if `sei`."""
    sei = sei and codec in ("h264", "h265")
    if sei:
        first = next((i for i, u in enumerate(units) if _vcl(codec, u)), 0)
        units = [*units[:first], sei_nal(codec), *units[first:]]
    udp, tcp = packetize(codec, units), packetize(codec, units, TCP_PAYLOAD_MAX)
    return wire_frame(udp, PAYLOAD_TYPES[codec], key, tcp, sei)


def _vcl(codec: str, nal: bytes) -> bool:
    return 1 <= nal[0] & 0x1F <= 5 if codec == "h264" else (nal[0] >> 1) & 0x3F < 32
