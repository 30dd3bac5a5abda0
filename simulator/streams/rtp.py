"""RTP packetisation (RFC 6184 H.264, RFC 7798 H.265, RFC 2435 JPEG) and RTCP sender reports.

A clip frame is packetised once into a WireFrame: the RTP packets of one access unit with
zeroed sequence number, timestamp and SSRC, laid out both for TCP-interleaved delivery
(`$`, channel, length before each packet) and for UDP. Serving a frame then costs one copy
and one `pack_into` per packet (`stamp`), shared by every client of the camera.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

PAYLOAD_MAX = 1400  # RTP payload bytes: 1400 + 12 + 8 + 20 fits a 1500-byte Ethernet MTU
#: RTP payload bytes over RTSP/TCP: no MTU there, and ffmpeg-based clients drop interleaved
#: packets above 8192 bytes. Fewer, larger packets cost less to send.
TCP_PAYLOAD_MAX = 8000
PAYLOAD_TYPES = {"h264": 96, "h265": 96, "mjpeg": 26}
NTP_EPOCH_OFFSET = 2_208_988_800
GSO_MAX_SEGMENTS = 64  # Linux UDP_MAX_SEGMENTS
GSO_MAX_BYTES = (
    65_000  # one UDP send carries at most 65,507 bytes  # seconds from 1900-01-01 to 1970-01-01
)

_STAMP = struct.Struct(">HII")
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


def filler_h264(size: int) -> bytes:
    """A filler-data NAL unit (type 12) of about `size` bytes: decoders discard it."""
    return b"\x0c" + b"\xff" * max(0, size - 2) + b"\x80"


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


def filler_h265(size: int) -> bytes:
    """A filler-data NAL unit (FD_NUT, type 38) of about `size` bytes."""
    return b"\x4c\x01" + b"\xff" * max(0, size - 3) + b"\x80"


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


def parse_sei(payload: bytes) -> tuple[str, float] | None:
    """(camera id, send time) from an RTP payload holding a camsim SEI, else None."""
    i = payload.find(SEI_UUID)
    if i < 0:
        return None
    field = payload[i + len(SEI_UUID) : i + len(SEI_UUID) + SEI_FIELD]
    try:
        return field[:32].decode().rstrip(), int(field[32:], 16) / 1e6
    except ValueError:
        return None


# -- Frames ready for the wire ----------------------------------------------------------------


@dataclass(frozen=True)
class WireFrame:
    """One access unit's RTP packets with zero seq/timestamp/SSRC, for TCP and for UDP."""

    tcp: bytes  # per packet: '$', channel 0, length, RTP packet
    tcp_offsets: tuple[int, ...]  # where each RTP header starts in `tcp`
    udp: bytes  # RTP packets back to back
    udp_offsets: tuple[int, ...]
    udp_sizes: tuple[int, ...]
    gso: tuple[tuple[int, int, int], ...]  # (start, end, segment size): runs of equal packets
    key: bool
    packets: int = 0  # UDP layout
    tcp_packets: int = 0
    tcp_sizes: tuple[int, ...] = ()
    sei_tcp: int = -1  # where the SEI field is in `tcp` (-1: none)
    sei_udp: int = -1

    def stamped(self, tcp: bool, seq: int, ts: int, ssrc: int) -> bytearray:
        """A copy of the TCP or UDP layout with consecutive sequence numbers from `seq`."""
        if tcp:
            return stamp(self.tcp, self.tcp_offsets, seq, ts, ssrc)
        return stamp(self.udp, self.udp_offsets, seq, ts, ssrc)


def wire_frame(
    payloads: list[bytes], payload_type: int, key: bool, tcp_payloads: list[bytes] | None = None
) -> WireFrame:
    """Lay out one frame's payloads as RTP packets (marker bit on the last one); TCP may use
    its own, larger payloads."""

    def packets(parts: list[bytes]) -> list[bytes]:
        last = len(parts) - 1
        return [bytes([0x80, (0x80 if i == last else 0) | payload_type]) + bytes(10) + p
                for i, p in enumerate(parts)]  # fmt: skip

    tcp, udp = bytearray(), bytearray()
    tcp_off, tcp_sizes, udp_off, sizes = [], [], [], []
    for pkt in packets(payloads if tcp_payloads is None else tcp_payloads):
        tcp += b"$\x00" + _SIZE.pack(len(pkt))
        tcp_off.append(len(tcp))
        tcp_sizes.append(len(pkt))
        tcp += pkt
    for pkt in packets(payloads):
        udp_off.append(len(udp))
        sizes.append(len(pkt))
        udp += pkt
    gso: list[tuple[int, int, int]] = []
    i = 0
    while i < len(sizes):  # a GSO run: equal sizes, the last one may be shorter, < 64 KB
        most = min(GSO_MAX_SEGMENTS, GSO_MAX_BYTES // sizes[i])
        j = i + 1
        while j < len(sizes) and sizes[j] == sizes[i] and j - i < most:
            j += 1
        if j < len(sizes) and sizes[j] < sizes[i] and j - i < most:
            j += 1
        gso.append((udp_off[i], udp_off[j - 1] + sizes[j - 1], sizes[i]))
        i = j
    return WireFrame(
        bytes(tcp), tuple(tcp_off), bytes(udp), tuple(udp_off), tuple(sizes), tuple(gso), key,
        len(payloads), len(tcp_off), tuple(tcp_sizes),
    )  # fmt: skip


def stamp(template: bytes, offsets: tuple[int, ...], seq: int, ts: int, ssrc: int) -> bytearray:
    """A copy of `template` with consecutive sequence numbers from `seq`, timestamp and SSRC."""
    buf = bytearray(template)
    pack = _STAMP.pack_into
    for i, off in enumerate(offsets):
        pack(buf, off + 2, (seq + i) & 0xFFFF, ts, ssrc)
    return buf


def interleave(rtp_or_rtcp: bytes, channel: int) -> bytes:
    """Frame one packet for RTSP interleaved delivery (RFC 2326 §10.12)."""
    return b"$" + bytes([channel]) + _SIZE.pack(len(rtp_or_rtcp)) + rtp_or_rtcp


def set_channel(tcp: bytearray, offsets: tuple[int, ...], channel: int) -> bytearray:
    """Rewrite the interleaved channel of every packet of a stamped TCP frame (in place)."""
    for off in offsets:
        tcp[off - 3] = channel
    return tcp


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
