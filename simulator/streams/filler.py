"""Filler NAL units: what a bitrate spike adds to a frame, and its RTP packets cut from
buffers every filler shares (a spiked loop holds references, not payload bytes)."""

from __future__ import annotations

from simulator.streams.rtp import TCP_PAYLOAD_MAX


def filler_h264(size: int) -> bytes:
    """A filler-data NAL unit (type 12) of about `size` bytes: decoders discard it."""
    return b"\x0c" + b"\xff" * max(0, size - 2) + b"\x80"


def filler_h265(size: int) -> bytes:
    """A filler-data NAL unit (FD_NUT, type 38) of about `size` bytes."""
    return b"\x4c\x01" + b"\xff" * max(0, size - 3) + b"\x80"


_FILLER_TAIL = memoryview(b"\xff" * TCP_PAYLOAD_MAX + b"\x80")  # the end of every filler NAL
# (FU header, length) → a fragment all 0xff after its header: a handful (2 codecs × start,
# middle, 2 MTUs), kept for the process, each shared by every spiked copy
_filler_full: dict[tuple[bytes, int], bytes] = {}


def filler_len(codec: str, size: int) -> int:
    """The length of `filler_h264(size)` or `filler_h265(size)`."""
    return 2 + max(0, size - 2) if codec == "h264" else 3 + max(0, size - 3)


def filler_payloads(codec: str, size: int, mtu: int) -> list[tuple[bytes | memoryview, ...]]:
    """The RTP payloads of the filler NAL unit `filler_h264(size)` (or H.265's) sent alone, as
    `packetize` cuts it, each as buffers shared by every filler: nothing of the size of the
    filler is allocated. H.264 packetises a NAL unit alone only when it is over `mtu` (smaller
    ones are aggregated with the NAL units before them: build those frames whole)."""
    n = filler_len(codec, size)
    nal_head = b"\x0c" if codec == "h264" else b"\x4c\x01"
    if n <= mtu:
        return [(nal_head, _FILLER_TAIL[-(n - len(nal_head)) :])]
    if codec == "h264":
        fu, kind, step = b"\x1c", 12, mtu - 2  # FU-A indicator, filler type 12
    else:
        fu, kind, step = b"\x62\x01", 38, mtu - 3  # FU (type 49) header, FD_NUT 38
    body = n - len(nal_head)  # 0xff bytes then the 0x80 that ends the NAL unit
    out: list[tuple[bytes | memoryview, ...]] = []
    for pos in range(0, body, step):
        flags = (0x80 if pos == 0 else 0) | (0x40 if pos + step >= body else 0)
        head = fu + bytes([flags | kind])
        if pos + step >= body:
            out.append((head, _FILLER_TAIL[-(body - pos) :]))
        else:
            full = _filler_full.get((head, step))
            if full is None:
                full = _filler_full[head, step] = head + b"\xff" * step
            out.append((full,))
    return out
