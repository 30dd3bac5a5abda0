"""Loops, the clip cache and the RTP packetisers, checked against what the RFCs say."""

from __future__ import annotations

import struct
import subprocess

import pytest

from simulator.streams.clipcache import ClipCache, clip_key, load_clip
from simulator.streams.encoder import EncodeSpec, encode, loop_frames, nal_type
from simulator.streams.protocol import interleaved_end
from simulator.streams.rtp import (
    packetize_h264,
    packetize_h265,
    packetize_jpeg,
    parse_jpeg,
    parse_sei,
    sei_data,
    sei_nal,
    sender_report,
    wire_frame,
)
from simulator.streams.scenes import SceneSpec

SCENE = SceneSpec(160, 96, 10, 20, label="test")


def test_loop_frames_is_an_even_number_of_gops() -> None:
    assert loop_frames(25, 50, 4) == 100
    assert loop_frames(25, 50, 5) == 200
    assert loop_frames(7, 14, 1) == 28


@pytest.mark.parametrize("codec", ["h264", "h265"])
def test_loops_decode_back_to_back_without_errors(codec: str, tmp_path) -> None:  # noqa: ANN001
    clip = encode(EncodeSpec(SCENE, codec, 10, 200e3))
    assert clip.keyframes == [i % 10 == 0 for i in range(20)]
    assert set(clip.params) == ({"sps", "pps"} if codec == "h264" else {"vps", "sps", "pps"})
    annexb = b"".join(b"\x00\x00\x00\x01" + n for f in clip.frames for n in f)
    path = tmp_path / f"loop.{codec}"
    path.write_bytes(annexb * 3)  # three loops: two seams
    run = subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-f",
            "hevc" if codec == "h265" else "h264",
            "-i",
            str(path),
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        timeout=60,
    )
    assert run.returncode == 0 and run.stderr == b""


def test_clip_cache_is_content_addressed(tmp_path) -> None:  # noqa: ANN001
    spec = EncodeSpec(SCENE, "h264", 10, 200e3)
    cache = ClipCache(tmp_path, progress=False)
    first = cache.get_many([spec, spec])[spec]
    path = cache.path(spec)
    assert path.name == f"{clip_key(spec)}.clip"
    mtime = path.stat().st_mtime_ns
    again = ClipCache(tmp_path, progress=False).get_many([spec])[spec]
    assert path.stat().st_mtime_ns == mtime  # loaded, not rebuilt
    assert again.frames == first.frames and again.params == first.params
    assert load_clip(path).keyframes == first.keyframes
    other = EncodeSpec(SCENE, "h264", 10, 300e3)
    assert clip_key(other) != clip_key(spec)


@pytest.mark.parametrize(
    ("codec", "scene", "night", "kbps"),
    [
        ("h264", "complex", False, 400),
        ("h264", "simple", True, 150),
        ("h265", "complex", False, 400),
        ("h265", "normal", True, 300),
        ("h265", "normal", False, 300),
        ("mjpeg", "complex", False, 400),
        ("mjpeg", "simple", True, 900),
    ],
)
def test_achieved_bitrate_is_within_a_tenth_of_the_target(
    codec: str, scene: str, night: bool, kbps: int
) -> None:
    fps, gop = (5, 1) if codec == "mjpeg" else (10, 10)
    activity = "high" if scene == "complex" else "medium"
    spec = SceneSpec(320, 184, fps, 40, scene=scene, activity=activity, night=night, label="x")
    clip = encode(EncodeSpec(spec, codec, gop, kbps * 1e3))
    assert abs(clip.bitrate_bps / (kbps * 1e3) - 1) <= 0.10, clip.bitrate_bps


def _fu_a_reassemble(payloads: list[bytes]) -> list[bytes]:
    nals, current = [], None
    for p in payloads:
        kind = p[0] & 0x1F
        if kind == 28:
            if p[1] & 0x80:
                current = bytearray([(p[0] & 0xE0) | (p[1] & 0x1F)])
            current += p[2:]
            if p[1] & 0x40:
                nals.append(bytes(current))
        elif kind == 24:
            pos = 1
            while pos < len(p):
                (n,) = struct.unpack_from(">H", p, pos)
                nals.append(p[pos + 2 : pos + 2 + n])
                pos += 2 + n
        else:
            nals.append(p)
    return nals


def test_h264_fu_a_and_stap_a_round_trip() -> None:
    nals = [
        b"\x67" + bytes(10),
        b"\x68" + bytes(4),
        b"\x65" + bytes(range(256)) * 20,
        b"\x41" + bytes(50),
    ]
    payloads = packetize_h264(nals, mtu=1000)
    assert all(len(p) <= 1000 for p in payloads)
    assert payloads[0][0] & 0x1F == 24  # SPS and PPS aggregated
    assert _fu_a_reassemble(payloads) == nals


def test_h265_fragmentation_units() -> None:
    nal = bytes([19 << 1, 1]) + bytes(range(256)) * 10
    payloads = packetize_h265([nal], mtu=1000)
    assert all((p[0] >> 1) & 0x3F == 49 for p in payloads)
    assert payloads[0][2] & 0x80 and payloads[-1][2] & 0x40
    assert all(p[2] & 0x3F == 19 for p in payloads)
    assert bytes([19 << 1, 1]) + b"".join(p[3:] for p in payloads) == nal
    assert nal_type("h265", nal) == 19


def test_jpeg_payloads_carry_tables_and_offsets() -> None:
    clip = encode(EncodeSpec(SceneSpec(160, 96, 5, 2), "mjpeg", 1, 400e3))
    image = clip.frames[0][0]
    scan = parse_jpeg(image)
    assert (scan.type, scan.width, scan.height, len(scan.qtables)) == (1, 160, 96, 128)
    payloads = packetize_jpeg(image, mtu=500)
    offsets = [int.from_bytes(p[1:4], "big") for p in payloads]
    assert offsets[0] == 0 and offsets == sorted(offsets)
    assert all(p[4:8] == bytes([1, 255, 20, 12]) for p in payloads)
    data = payloads[0][8 + 4 + 128 :] + b"".join(p[8:] for p in payloads[1:])
    assert data == scan.scan


def _packets(buf: bytes, tcp: bool) -> list[bytes]:
    """Split a stamped frame into RTP packets (UDP: every packet is 1012 bytes but the last)."""
    out, pos = [], 0
    while pos < len(buf):
        if tcp:
            end = interleaved_end(buf, pos)
            assert buf[pos : pos + 1] == b"$" and end > pos
            out.append(buf[pos + 4 : end])
            pos = end
        else:
            out.append(buf[pos : pos + 1012])
            pos += 1012
    return out


def test_wire_frames_stamp_sequence_numbers_and_group_gso_runs() -> None:
    payloads = [bytes([k]) * 1000 for k in range(5)] + [bytes(300)]
    wf = wire_frame(payloads, 96, key=True)
    udp = _packets(wf.udp.stamped(65534, 1234, 0xABCD), tcp=False)
    assert [struct.unpack_from(">H", p, 2)[0] for p in udp] == [65534, 65535, 0, 1, 2, 3]
    assert all(struct.unpack_from(">II", p, 4) == (1234, 0xABCD) for p in udp)
    assert [p[1] >> 7 for p in udp] == [0, 0, 0, 0, 0, 1]
    assert [p[1] & 0x7F for p in udp] == [96] * 6 and all(p[0] == 0x80 for p in udp)
    assert [p[12:] for p in udp] == payloads
    assert wf.udp.gso == ((0, 6, 1012),)  # one sendmsg: equal segments, a shorter last
    assert wf.udp.nbytes == 5 * 1012 + 312 and wf.udp.payload_bytes == 5300
    tcp = _packets(wf.tcp.stamped(7, 0, 0, channel=2), tcp=True)
    assert [p[12:] for p in tcp] == payloads
    assert [struct.unpack_from(">H", p, 2)[0] for p in tcp] == [7, 8, 9, 10, 11, 12]
    raw = wf.tcp.stamped(7, 0, 0, channel=2)
    assert raw[1] == 2 and len(raw) == wf.tcp.nbytes == 5 * 1016 + 316


def test_wire_frames_carry_the_sei_field_where_the_placeholder_was() -> None:
    slice_nal = b"\x65" + bytes(3000)  # an IDR slice, fragmented
    wf = wire_frame([sei_nal("h264"), slice_nal], 96, key=True, sei=True)
    field = sei_data("cam-007", 1_700_000_000.25)
    for lay in (wf.udp, wf.tcp):
        assert lay.sei >= 0
        buf = lay.stamped(1, 2, 3, field)
        assert parse_sei(buf) == ("cam-007", 1_700_000_000.25)
        assert len(buf) == lay.nbytes


def test_sender_report_layout() -> None:
    pkt = sender_report(0x1234, 1_700_000_000.5, 90_000, 10, 5000, "cam@camsim", bye=True)
    assert pkt[0] == 0x80 and pkt[1] == 200 and struct.unpack_from(">H", pkt, 2)[0] == 6
    assert struct.unpack_from(">I", pkt, 8)[0] == 1_700_000_000 + 2_208_988_800
    assert len(pkt) % 4 == 0 and pkt[28 + 1] == 202 and pkt[-7] == 203


def test_gso_runs_fit_one_udp_send() -> None:
    wf = wire_frame([bytes(1400)] * 100 + [bytes(10)], 96, key=True)
    gso = wf.udp.gso
    assert all((end - first) * seg <= 65_507 and end - first <= 64 for first, end, seg in gso)
    assert gso[0][0] == 0 and gso[-1][1] == wf.udp.packets == 101
    assert all(a[1] == b[0] for a, b in zip(gso, gso[1:], strict=False))
