"""RTP packetisation (RFC 6184 H.264, RFC 7798 H.265, RFC 2435 JPEG) and RTCP sender reports,
and what a client reads back: keyframes and camsim's per-frame SEI.

A clip frame is packetised once into a WireFrame: the payloads of one access unit's RTP
packets, laid out for UDP and for TCP-interleaved delivery (`$`, channel, length before each
packet) as gather lists. Serving a frame then packs one header per packet and hands the
list to `writev`/`sendmsg`: the payload bytes are never copied in Python.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

PAYLOAD_MAX = 1400  # RTP payload bytes: 1400 + 12 + 8 + 20 fits a 1500-byte Ethernet MTU
#: RTP payload bytes over RTSP/TCP: no MTU there, and ffmpeg-based clients drop interleaved
#: packets above 8192 bytes. Fewer, larger packets cost less to send.
TCP_PAYLOAD_MAX = 8000
PAYLOAD_TYPES = {"h264": 96, "h265": 96, "mjpeg": 26}
NTP_EPOCH_OFFSET = 2_208_988_800  # seconds from 1900-01-01 to 1970-01-01
GSO_MAX_SEGMENTS = 64  # Linux UDP_MAX_SEGMENTS
GSO_MAX_BYTES = 65_000  # one UDP send carries at most 65,507 bytes

_SIZE = struct.Struct(">H")


# -- H.264, RFC 6184 (packetization-mode=1: single NAL, STAP-A, FU-A) -----------------------


def packetize_h264(nals: list[bytes], mtu: int = PAYLOAD_MAX) -> list[bytes]:
    """One access unit → RTP payloads; small NAL units are aggregated in STAP-A packets."""
    out: list[bytes] = []
    group: list[bytes] = []

    def flush() -> None:
        if len(group) == 1:
            out.append(group[0])
        elif group:
            nri = max(n[0] & 0x60 for n in group)
            out.append(bytes([nri | 24]) + b"".join(_SIZE.pack(len(n)) + n for n in group))
        group.clear()

    for nal in nals:
        if len(nal) > mtu:
            flush()
            out.extend(_fu_a(nal, mtu))
        elif sum(len(n) + 2 for n in group) + len(nal) + 3 > mtu:
            flush()
            group.append(nal)
        else:
            group.append(nal)
    flush()
    return out


def _fu_a(nal: bytes, mtu: int) -> list[bytes]:
    indicator = (nal[0] & 0xE0) | 28
    kind = nal[0] & 0x1F
    body = memoryview(nal)[1:]
    step = mtu - 2
    out = []
    for pos in range(0, len(body), step):
        start = 0x80 if pos == 0 else 0
        end = 0x40 if pos + step >= len(body) else 0
        out.append(bytes([indicator, start | end | kind]) + body[pos : pos + step])
    return out


# -- H.265, RFC 7798 (single NAL unit packets and FUs) -----------------------------------


def packetize_h265(nals: list[bytes], mtu: int = PAYLOAD_MAX) -> list[bytes]:
    """One access unit → RTP payloads; large NAL units are split into FUs (type 49)."""
    out: list[bytes] = []
    for nal in nals:
        if len(nal) <= mtu:
            out.append(nal)
            continue
        kind = (nal[0] >> 1) & 0x3F
        head = bytes([(nal[0] & 0x81) | (49 << 1), nal[1]])
        body = memoryview(nal)[2:]
        step = mtu - 3
        for pos in range(0, len(body), step):
            start = 0x80 if pos == 0 else 0
            end = 0x40 if pos + step >= len(body) else 0
            out.append(head + bytes([start | end | kind]) + body[pos : pos + step])
    return out


# -- JPEG, RFC 2435 ------------------------------------------------------------------------


@dataclass(frozen=True)
class JpegScan:
    """What RFC 2435 carries of a baseline JPEG: type, size, quantisation tables, scan data."""

    type: int  # 0: 4:2:2, 1: 4:2:0
    width: int
    height: int
    qtables: bytes  # 8-bit tables in zigzag order, luma then chroma
    scan: bytes  # entropy-coded data, without the EOI marker


def parse_jpeg(data: bytes) -> JpegScan:
    """Parse the parts of a baseline JFIF image that RFC 2435 needs (standard Huffman tables)."""
    if data[:2] != b"\xff\xd8":
        raise ValueError("not a JPEG image")
    pos, tables, width, height, kind = 2, {}, 0, 0, -1
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            raise ValueError("JPEG marker expected")
        marker = data[pos + 1]
        (length,) = _SIZE.unpack_from(data, pos + 2)
        seg = data[pos + 4 : pos + 2 + length]
        if marker == 0xDB:  # DQT, possibly several tables
            i = 0
            while i < len(seg):
                pq, tq = seg[i] >> 4, seg[i] & 15
                if pq:
                    raise ValueError("16-bit JPEG quantisation tables are not supported")
                tables[tq] = seg[i + 1 : i + 65]
                i += 65
        elif marker in (0xC1, 0xC2, 0xC3, 0xDD):
            raise ValueError("only baseline JPEG without restart markers is supported")
        elif marker == 0xC0:
            height, width = _SIZE.unpack_from(seg, 1)[0], _SIZE.unpack_from(seg, 3)[0]
            sampling = seg[7]
            kind = {0x21: 0, 0x22: 1}.get(sampling, -1)
            if seg[5] != 3 or kind < 0:
                raise ValueError("JPEG must be YUV 4:2:2 or 4:2:0")
        elif marker == 0xDA:
            end = len(data) - 2 if data[-2:] == b"\xff\xd9" else len(data)
            scan = data[pos + 2 + length : end]
            q = tables.get(0, b"") + tables.get(1, b"")
            return JpegScan(kind, width, height, q, scan)
        pos += 2 + length
    raise ValueError("JPEG image without a scan")


def packetize_jpeg(image: bytes, mtu: int = PAYLOAD_MAX) -> list[bytes]:
    """One JPEG image → RTP/JPEG payloads (Q=255: quantisation tables in the first packet)."""
    j = parse_jpeg(image)
    out = []
    pos = 0
    while pos < len(j.scan) or pos == 0:
        head = struct.pack(">I", pos)[1:]
        main = bytes([0]) + head + bytes([j.type, 255, j.width // 8, j.height // 8])
        qhead = b"\x00\x00" + _SIZE.pack(len(j.qtables)) + j.qtables if pos == 0 else b""
        room = mtu - len(main) - len(qhead)
        out.append(main + qhead + j.scan[pos : pos + room])
        pos += room
    return out


def packetize(codec: str, units: list[bytes], mtu: int = PAYLOAD_MAX) -> list[bytes]:
    """The RTP payloads of one frame of a clip."""
    if codec == "h264":
        return packetize_h264(units, mtu)
    if codec == "h265":
        return packetize_h265(units, mtu)
    return packetize_jpeg(units[0], mtu)


# -- Per-frame SEI: camera id and send time (user data unregistered, payload type 5) ---------

SEI_UUID = b"camsim-send-time"  # 16 bytes, none zero: no emulation prevention needed
SEI_FIELD = 48  # camera id (32 bytes, space padded) + send time (16 hex digits, µs since 1970)
SEI_PLACEHOLDER = b"\x7f" * SEI_FIELD


def sei_nal(codec: str, data: bytes = SEI_PLACEHOLDER) -> bytes:
    """An SEI NAL unit (H.264 type 6, H.265 prefix SEI 39) carrying `data` after SEI_UUID."""
    body = bytes([5, len(SEI_UUID) + len(data)]) + SEI_UUID + data + b"\x80"
    return (b"\x06" if codec == "h264" else b"\x4e\x01") + body


def sei_data(camera: str, unix_time: float) -> bytes:
    """The SEI field: who sent the frame and when (its wall clock)."""
    return camera.encode()[:32].ljust(32) + f"{int(unix_time * 1e6):016x}".encode()


def sei_time(field: bytes | bytearray) -> float | None:
    """The send time (Unix seconds) in camsim's SEI field (`sei_data`), else None."""
    try:
        return int(field[32:SEI_FIELD], 16) / 1e6
    except ValueError:
        return None


def parse_sei(payload: bytes) -> tuple[str, float] | None:
    """(camera id, send time) from an RTP payload holding a camsim SEI, else None."""
    i = payload.find(SEI_UUID)
    if i < 0:
        return None
    field = payload[i + len(SEI_UUID) : i + len(SEI_UUID) + SEI_FIELD]
    sent = sei_time(field)
    try:
        camera = field[:32].decode().rstrip()
    except ValueError:
        return None
    return None if sent is None else (camera, sent)


# -- What a client reads: the header, keyframes (RFC 6184, RFC 7798, RFC 2435) ---------------


def rtp_header(buf: bytes | bytearray | memoryview, p: int = 0) -> tuple[int, bool, int]:
    """(sequence number, marker bit, where the payload starts) of the RTP packet at buf[p]
    (12 bytes of it at least; CSRCs skipped)."""
    return buf[p + 2] << 8 | buf[p + 3], bool(buf[p + 1] & 0x80), p + 12 + 4 * (buf[p] & 0x0F)


H264_KEYS = frozenset({5})  # IDR slice
H265_KEYS = frozenset(range(16, 22))  # IRAP: BLA, IDR, CRA
H264_OPENERS = H264_KEYS | {7}  # and the SPS before it
H265_OPENERS = H265_KEYS | {32, 33}  # and the VPS and SPS before it


def keyframe_at(
    codec: str,
    buf: bytes | bytearray | memoryview,
    p: int = 0,
    e: int | None = None,
    opens: bool = False,
) -> bool:
    """Whether the RTP payload buf[p:e] (read in place: no copy per packet) carries a keyframe
    NAL unit (H.264 IDR, H.265 IRAP), alone, aggregated (STAP-A, AP) or as a fragment's start
    (FU-A, FU); every JPEG packet is of a keyframe. With `opens`, whether it opens one:
    parameter sets count, and a JPEG image opens at fragment offset 0."""
    if e is None:
        e = len(buf)
    if p >= e:
        return False
    if codec == "h264":
        keys = H264_OPENERS if opens else H264_KEYS
        t = buf[p] & 0x1F
        if t == 28:  # FU-A: the start fragment names the type
            return e - p > 1 and bool(buf[p + 1] & 0x80) and buf[p + 1] & 0x1F in keys
        if t == 24:  # STAP-A: 2-byte sizes, then NAL units
            i = p + 1
            while i + 2 < e:
                if buf[i + 2] & 0x1F in keys:
                    return True
                i += 2 + (buf[i] << 8 | buf[i + 1])
            return False
        return t in keys
    if codec == "h265":
        keys = H265_OPENERS if opens else H265_KEYS
        t = (buf[p] >> 1) & 0x3F
        if t == 49:  # FU
            return e - p > 2 and bool(buf[p + 2] & 0x80) and buf[p + 2] & 0x3F in keys
        if t == 48:  # AP
            i = p + 2
            while i + 2 < e:
                if (buf[i + 2] >> 1) & 0x3F in keys:
                    return True
                i += 2 + (buf[i] << 8 | buf[i + 1])
            return False
        return t in keys
    if opens:  # JPEG: the fragment offset (3 bytes after the type-specific one) is 0
        return e - p >= 4 and buf[p + 1] == buf[p + 2] == buf[p + 3] == 0
    return True  # JPEG: every frame stands alone


# -- Frames ready for the wire ----------------------------------------------------------------

_TCP_HEAD = struct.Struct(">BBHBBHII")  # '$', channel, length; RTP V=2, M|PT, seq, ts, SSRC
_UDP_HEAD = struct.Struct(">BBHII")
RTP_HEADER = 12
INTERLEAVE_PREFIX = 4  # '$', channel, length (RFC 2326 §10.12)


@dataclass(frozen=True, slots=True)
class Layout:
    """One frame's RTP packets for one transport, as a gather list for `writev`/`sendmsg`.

    Payloads are shared slices of the clip; only the headers (sequence number, timestamp,
    SSRC, and the interleaved channel over TCP) and the SEI field change from frame to frame,
    so sending a frame packs a few headers and copies nothing."""

    tcp: bool
    parts: tuple[memoryview | None, ...]  # None where a header or the SEI field goes
    heads: tuple[tuple[int, int, int], ...]  # per packet: (index in parts, RTP size, M|PT)
    sei: int  # index of the SEI field in parts, -1 if none
    gso: tuple[tuple[int, int, int], ...]  # UDP: (first packet, end packet, segment size)
    nbytes: int  # on the wire, headers included
    payload_bytes: int  # RTP payload octets (for sender reports)

    @property
    def packets(self) -> int:
        return len(self.heads)

    def gather(self, seq: int, ts: int, ssrc: int, sei: bytes = b"", channel: int = 0) -> list:
        """The frame's buffers with consecutive sequence numbers from `seq`."""
        parts = list(self.parts)
        if self.tcp:
            pack = _TCP_HEAD.pack
            for i, size, mpt in self.heads:
                parts[i] = pack(0x24, channel, size, 0x80, mpt, seq, ts, ssrc)
                seq = (seq + 1) & 0xFFFF
        else:
            pack = _UDP_HEAD.pack
            for i, _, mpt in self.heads:
                parts[i] = pack(0x80, mpt, seq, ts, ssrc)
                seq = (seq + 1) & 0xFFFF
        if self.sei >= 0:
            parts[self.sei] = sei or SEI_PLACEHOLDER
        return parts

    def packet_parts(self, parts: list, first: int, end: int) -> list:
        """The buffers of packets first..end-1 of a gathered frame."""
        heads = self.heads
        stop = heads[end][0] if end < len(heads) else len(parts)
        return parts[heads[first][0] : stop]

    def stamped(self, seq: int, ts: int, ssrc: int, sei: bytes = b"", channel: int = 0) -> bytes:
        """The frame as one buffer (what `gather` sends)."""
        return b"".join(self.gather(seq, ts, ssrc, sei, channel))


def layout(payloads: list[bytes], payload_type: int, tcp: bool, sei: bool = False) -> Layout:
    """Lay out one frame's payloads as RTP packets, the marker bit on the last one. With
    `sei`, the placeholder of an SEI NAL unit (`sei_nal`) becomes the frame's SEI field."""
    parts: list[memoryview | None] = []
    heads, sizes = [], []
    mark = SEI_UUID + SEI_PLACEHOLDER if sei else b""
    field = -1
    prefix = INTERLEAVE_PREFIX if tcp else 0
    for k, payload in enumerate(payloads):
        marker = 0x80 if k == len(payloads) - 1 else 0
        heads.append((len(parts), RTP_HEADER + len(payload), marker | payload_type))
        sizes.append(prefix + RTP_HEADER + len(payload))
        parts.append(None)
        view = memoryview(payload)
        at = payload.find(mark) if mark and field < 0 else -1
        if at >= 0:
            at += len(SEI_UUID)
            field = len(parts) + 1
            parts += [view[:at], None, view[at + SEI_FIELD :]]
        else:
            parts.append(view)
    return Layout(tcp, tuple(parts), tuple(heads), field, () if tcp else _gso(sizes),
                  sum(sizes), sum(map(len, payloads)))  # fmt: skip


def _gso(sizes: list[int]) -> tuple[tuple[int, int, int], ...]:
    """GSO runs of packets of these sizes: equal sizes, the last one may be shorter, < 64 KB."""
    gso: list[tuple[int, int, int]] = []
    i = 0
    while i < len(sizes):
        most = min(GSO_MAX_SEGMENTS, GSO_MAX_BYTES // sizes[i])
        j = i + 1
        while j < len(sizes) and sizes[j] == sizes[i] and j - i < most:
            j += 1
        if j < len(sizes) and sizes[j] < sizes[i] and j - i < most:
            j += 1
        gso.append((i, j, sizes[i]))
        i = j
    return tuple(gso)


def extended(lay: Layout, payloads: list[tuple[bytes | memoryview, ...]]) -> Layout:
    """`lay` with more packets after its own, each payload given as its buffers (shared, not
    copied): the marker bit moves to the new last packet. The parts of `lay` are reused."""
    if not payloads:
        return lay
    *heads, (at, size, mpt) = lay.heads
    heads.append((at, size, mpt & 0x7F))
    parts = list(lay.parts)
    prefix = INTERLEAVE_PREFIX if lay.tcp else 0
    sizes = [prefix + s for _, s, _ in heads]
    added = 0
    rtp_size: dict[int, int] = {}  # one int object per size: most filler packets are alike
    for k, bufs in enumerate(payloads):
        n = sum(map(len, bufs))
        marker = 0x80 if k == len(payloads) - 1 else 0
        size = rtp_size.setdefault(RTP_HEADER + n, RTP_HEADER + n)
        heads.append((len(parts), size, marker | (mpt & 0x7F)))
        sizes.append(prefix + RTP_HEADER + n)
        parts.append(None)
        parts += bufs
        added += n
    return Layout(lay.tcp, tuple(parts), tuple(heads), lay.sei, () if lay.tcp else _gso(sizes),
                  sum(sizes), lay.payload_bytes + added)  # fmt: skip


@dataclass(frozen=True, slots=True)
class WireFrame:
    """One access unit ready for the wire, over UDP and over TCP (larger packets there)."""

    key: bool
    udp: Layout
    tcp: Layout


def wire_frame(
    payloads: list[bytes],
    payload_type: int,
    key: bool,
    tcp_payloads: list[bytes] | None = None,
    sei: bool = False,
) -> WireFrame:
    """A frame's UDP and TCP layouts; TCP may use its own, larger payloads."""
    return WireFrame(
        key,
        layout(payloads, payload_type, False, sei),
        layout(payloads if tcp_payloads is None else tcp_payloads, payload_type, True, sei),
    )


def interleave(rtp_or_rtcp: bytes, channel: int) -> bytes:
    """Frame one packet for RTSP interleaved delivery (RFC 2326 §10.12)."""
    return b"$" + bytes([channel]) + _SIZE.pack(len(rtp_or_rtcp)) + rtp_or_rtcp


# -- RTCP, RFC 3550 -------------------------------------------------------------------------


def ntp_timestamp(unix_time: float) -> tuple[int, int]:
    """Unix time → 64-bit NTP timestamp (seconds, fraction)."""
    t = unix_time + NTP_EPOCH_OFFSET
    sec = int(t)
    return sec & 0xFFFFFFFF, int((t - sec) * (1 << 32)) & 0xFFFFFFFF


def sender_report(
    ssrc: int,
    unix_time: float,
    rtp_ts: int,
    packets: int,
    octets: int,
    cname: str,
    bye: bool = False,
) -> bytes:
    """A compound RTCP packet: SR, SDES with CNAME, and BYE if the stream ends."""
    sec, frac = ntp_timestamp(unix_time)
    sr = struct.pack(
        ">BBHIIIIII", 0x80, 200, 6, ssrc, sec, frac, rtp_ts & 0xFFFFFFFF,
        packets & 0xFFFFFFFF, octets & 0xFFFFFFFF,
    )  # fmt: skip
    name = cname.encode()[:255]
    item = bytes([1, len(name)]) + name + b"\x00"
    item += b"\x00" * (-(4 + len(item)) % 4)
    sdes = struct.pack(">BBHI", 0x81, 202, (4 + len(item)) // 4, ssrc) + item
    out = sr + sdes
    if bye:
        out += struct.pack(">BBHI", 0x81, 203, 1, ssrc)
    return out
