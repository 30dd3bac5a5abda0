"""The pacer without a network: what it hands a client when it falls behind, and over UDP.

- A stalled event loop leaves a new client's first keyframe and the frames after it due in the
  same pass: the client still gets every frame, whole and in sequence (no frame is lost
  between deciding a pass and writing it).
- UdpOut sends a gathered frame as the datagrams `Layout.stamped` describes, with GSO and
  without, and drops exactly the packets a loss fault does not keep.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import time
from pathlib import Path
from typing import Any

from simulator.model.city import City
from simulator.streams.output import UdpOut
from simulator.streams.pacer import Pacer
from simulator.streams.protocol import interleaved_end
from simulator.streams.rtp import wire_frame
from simulator.streams.server import CameraServer, ServeOptions
from simulator.streams.stream import Client


class _Transport:
    """Collects what is written, never full."""

    def __init__(self) -> None:
        self.data = bytearray()

    def write(self, data: bytes) -> None:
        self.data += data

    def is_closing(self) -> bool:
        return False

    def get_write_buffer_size(self) -> int:
        return 0


def _rtp_packets(data: bytes) -> list[bytes]:
    out, pos = [], 0
    while pos < len(data):
        end = interleaved_end(data, pos)
        assert data[pos : pos + 1] == b"$" and end > pos, "whole interleaved packets"
        if data[pos + 1] == 0:  # RTP; channel 1 carries RTCP sender reports
            out.append(bytes(data[pos + 4 : end]))
        pos = end
    return out


def test_a_stalled_loop_still_sends_every_frame_in_order(
    tiny_scenario: Any, clip_dir: Path
) -> None:
    async def run() -> tuple[list[bytes], int]:
        opts = ServeOptions(cache_dir=clip_dir, loop_seconds=2.0, progress=False, overlay="group")
        server = CameraServer(City.of(tiny_scenario), [0], opts)
        server.build_clips()
        stream = server.streams["h264cam-001/main"]
        pacer = Pacer(None)
        t = _Transport()
        client = Client("s", tcp=t)  # type: ignore[arg-type]
        client.playing = True
        stream.clients.append(client)
        pacer.start(stream)
        frames = stream.day.frames
        key = next(i for i, wf in enumerate(frames) if wf.key)
        stream.offset = (key - stream.n) % len(frames)  # the first frame due is a keyframe
        time.sleep(0.35)  # the loop stalls: the keyframe and the 2 or 3 after it fall due
        await asyncio.sleep(1.0)
        return _rtp_packets(t.data), client.frames

    packets, frames = asyncio.run(run())
    seqs = [struct.unpack_from(">H", p, 2)[0] for p in packets]
    assert frames >= 12
    assert all((b - a) & 0xFFFF == 1 for a, b in zip(seqs, seqs[1:], strict=False)), seqs
    assert sum(p[1] >> 7 for p in packets) == frames  # one marker bit per whole frame


def test_udp_out_sends_the_stamped_datagrams_and_drops_lost_packets() -> None:
    payloads = [bytes([k]) * 1000 for k in range(5)] + [b"\xaa" * 300]
    lay = wire_frame(payloads, 96, key=True).udp
    want = lay.stamped(100, 7, 9)
    want_packets = [want[i : i + 1012] for i in range(0, len(want), 1012)]
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.settimeout(2)
    addr = rx.getsockname()
    for gso, keep in ((True, None), (False, None), (True, [True, False, True, True, False, True])):
        tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        out = UdpOut(tx, tx, gso=gso)
        sent = out.send(lay, lay.gather(100, 7, 9), addr, keep)
        kept = [p for i, p in enumerate(want_packets) if keep is None or keep[i]]
        got = [rx.recv(2048) for _ in kept]
        assert got == kept and sent == sum(map(len, kept))
        tx.close()
    rx.close()
