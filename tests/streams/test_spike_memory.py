"""A spiked loop is the loop's own packets with filler packets cut from shared buffers: on
the wire byte for byte what packetising each frame with its filler NAL unit gives, and no
payload bytes of its own (so dropping it frees little, and a spike leaves no heap behind)."""

from __future__ import annotations

import random

import pytest

from simulator.streams import filler, rtp
from simulator.streams.encoder import Clip
from simulator.streams.filler import filler_h264, filler_h265
from simulator.streams.loop import Loop, _frame

SIZES = [30_000, 9_000, 1_200, 300, 5_000, 60, 14_000, 2_600, 700, 41_000]


def _loop(codec: str, sei: bool) -> Loop:
    """A loop of frames of SIZES bytes: a parameter set, then one slice (key first)."""
    rng = random.Random(7)
    if codec == "h264":
        ps, key, other = b"\x67" + bytes(20), b"\x65", b"\x41"
    else:
        ps, key, other = b"\x42\x01" + bytes(20), b"\x26\x01", b"\x02\x01"
    frames = []
    for i, n in enumerate(SIZES):
        body = bytes(rng.randrange(1, 256) for _ in range(n))
        frames.append([ps, (key if i == 0 else other) + body] if i == 0 else [(other + body)])
    clip = Clip(codec, 640, 360, 10.0, 10, frames, [i == 0 for i in range(len(SIZES))])
    return Loop.of(clip, sei)


@pytest.mark.parametrize("codec", ["h264", "h265"])
@pytest.mark.parametrize("sei", [True, False])
@pytest.mark.parametrize("factor", [1.1, 2.0, 3.5, 12.0])
def test_spiked_frames_are_what_packetising_with_filler_gives(
    codec: str, sei: bool, factor: float
) -> None:
    loop = _loop(codec, sei)
    filler = filler_h264 if codec == "h264" else filler_h265
    got = loop.spiked_frames(factor)
    for units, key, new in zip(loop.clip.frames, loop.clip.keyframes, got, strict=True):
        size = int(sum(map(len, units)) * (factor - 1))
        old = _frame(codec, [*units, filler(size)], key, sei)
        assert new.key == old.key
        for a, b in ((new.udp, old.udp), (new.tcp, old.tcp)):
            stamp = {"seq": 65_530, "ts": 123_456, "ssrc": 0xDEADBEEF, "sei": b"s" * 48}
            assert a.stamped(**stamp, channel=2) == b.stamped(**stamp, channel=2)
            assert (a.packets, a.gso, a.nbytes, a.payload_bytes, a.sei) == (
                b.packets, b.gso, b.nbytes, b.payload_bytes, b.sei)  # fmt: skip
            assert [h[1:] for h in a.heads] == [h[1:] for h in b.heads]  # sizes, markers


@pytest.mark.parametrize("codec", ["h264", "h265"])
def test_a_spiked_copy_holds_no_payload_bytes_of_its_own(codec: str) -> None:
    loop = _loop(codec, True)
    spiked = loop.spiked_frames(5.0)
    shared = {id(filler._FILLER_TAIL.obj), *map(id, filler._filler_full.values())}
    own = 0
    for wf, new in zip(loop.frames, spiked, strict=True):
        for lay, orig in ((new.udp, wf.udp), (new.tcp, wf.tcp)):
            theirs = {id(p) for p in orig.parts}
            for p in lay.parts:
                if p is None or id(p) in theirs:
                    continue
                base = p.obj if isinstance(p, memoryview) else p
                if id(base) not in shared and len(p) > 3:  # a NAL or FU header is 1-3 bytes
                    own += len(p)
    pairs = zip(spiked, loop.frames, strict=True)
    added = sum(s.tcp.payload_bytes - f.tcp.payload_bytes for s, f in pairs)
    assert added > 4 * sum(SIZES)
    # only the H.264 frames whose filler fits in one packet are built whole: small ones
    whole = 0
    for mtu in (rtp.PAYLOAD_MAX, rtp.TCP_PAYLOAD_MAX):
        whole += sum(5 * n + 100 for n in SIZES if codec == "h264" and 4 * n + 2 <= mtu)
    assert own <= whole < 0.1 * added
