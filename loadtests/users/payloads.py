"""What a viewer reads in RTP payloads: keyframes from the NAL unit types (H.264 IDR 5, H.265
IRAP 16-21, through STAP-A/AP and FU-A/FU; every JPEG frame is one) and camsim's per-frame SEI
send time (the field `rtp.sei_data` writes)."""

from __future__ import annotations

from simulator.streams.rtp import SEI_FIELD


def keyframe_nal(codec: str, payload: bytes | bytearray | memoryview) -> bool:
    """Whether an RTP payload starts (or carries) a keyframe NAL unit."""
    return keyframe_at(codec, payload, 0, len(payload))


def keyframe_at(codec: str, buf: bytes | bytearray | memoryview, p: int, e: int) -> bool:
    """`keyframe_nal` of the payload buf[p:e], read in place (no copy per packet)."""
    if p >= e:
        return False
    if codec == "h264":
        t = buf[p] & 0x1F
        if t == 5:
            return True
        if t == 28 and e - p > 1:  # FU-A: the start fragment names the type
            return bool(buf[p + 1] & 0x80) and buf[p + 1] & 0x1F == 5
        if t == 24:  # STAP-A: 2-byte sizes, then NAL units
            i = p + 1
            while i + 2 < e:
                if buf[i + 2] & 0x1F == 5:
                    return True
                i += 2 + (buf[i] << 8 | buf[i + 1])
        return False
    if codec == "h265":
        t = (buf[p] >> 1) & 0x3F
        if 16 <= t <= 21:
            return True
        if t == 49 and e - p > 2:
            return bool(buf[p + 2] & 0x80) and 16 <= buf[p + 2] & 0x3F <= 21
        if t == 48:
            i = p + 2
            while i + 2 < e:
                if 16 <= (buf[i + 2] >> 1) & 0x3F <= 21:
                    return True
                i += 2 + (buf[i] << 8 | buf[i + 1])
        return False
    return True  # JPEG: every frame stands alone


def sei_time(field: bytes | bytearray) -> float | None:
    """The send time (Unix seconds) in camsim's SEI field (camera id, 16 hex digits of µs)."""
    try:
        return int(field[32:SEI_FIELD], 16) / 1e6
    except ValueError:
        return None
