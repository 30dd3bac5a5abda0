"""Snapshots: a JPEG of what a stream shows now, at a bounded cost.

An MJPEG stream's current frame is already a JPEG. An H.264 or H.265 stream's picture is its
last keyframe at the position the stream is sending now (at most a GOP old), decoded once in
a worker thread and kept: a loop has few keyframes, and at most MAX_KEPT pictures are kept,
the least recently asked dropped first. Requests for a picture being decoded wait for it.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from simulator.streams.encoder import Clip
    from simulator.streams.pacer import Pacer
    from simulator.streams.stream import Stream

MAX_KEPT = 64  # decoded pictures kept (a 1080p JPEG is 100 to 300 kB)
QUALITY = 85


def decode_keyframe(clip: Clip, index: int) -> bytes:
    """The JPEG of the clip's keyframe `index` (H.264 or H.265)."""
    import av
    import cv2

    start = b"\x00\x00\x00\x01"
    units = [clip.params[k] for k in ("vps", "sps", "pps") if k in clip.params]
    data = b"".join(start + u for u in units + list(clip.frames[index]))
    ctx = av.CodecContext.create("h264" if clip.codec == "h264" else "hevc", "r")
    frames = []
    for packet in ctx.parse(data) + ctx.parse(None):
        frames += ctx.decode(packet)
    frames += ctx.decode(None)
    if not frames:
        raise ValueError(f"keyframe {index} of a {clip.codec} clip decodes to nothing")
    ok, jpeg = cv2.imencode(".jpg", frames[0].to_ndarray(format="bgr24"),
                            [cv2.IMWRITE_JPEG_QUALITY, QUALITY])  # fmt: skip
    if not ok:
        raise ValueError("JPEG encoding failed")
    return jpeg.tobytes()


class Offline(Exception):
    """The camera is offline (camera_down, or its network): no picture to give."""


class Snapshots:
    """The pictures of served streams, decoded on demand and kept a while."""

    def __init__(self, streams: dict[str, Stream], pacer: Pacer) -> None:
        self.streams = streams
        self.pacer = pacer
        self.kept: OrderedDict[tuple[int, int], bytes] = OrderedDict()
        self.pending: dict[tuple[int, int], asyncio.Future[bytes]] = {}
        self.decoded = 0  # pictures decoded (the cost paid)

    async def jpeg(self, camera: str, stream: str) -> bytes:
        """The JPEG of `camera/stream` now (KeyError: no such stream; Offline)."""
        s = self.streams[f"{camera}/{stream}"]
        if s.faults.offline:
            raise Offline(", ".join(sorted(s.faults.offline)))
        loop = asyncio.get_running_loop()
        clip = (s.loop or s.day).clip
        count = len(clip.frames)
        pos = (self.pacer.slot(s, loop.time()) + s.offset) % count
        if clip.codec == "mjpeg":
            return clip.frames[pos][0]
        key = pos
        while not clip.keyframes[key] and key > 0:
            key -= 1
        ident = (id(clip), key)
        if ident in self.kept:
            self.kept.move_to_end(ident)
            return self.kept[ident]
        fut = self.pending.get(ident)
        if fut is None:
            fut = loop.run_in_executor(None, decode_keyframe, clip, key)
            self.pending[ident] = fut
            try:
                picture = await fut
            finally:
                del self.pending[ident]
            self.decoded += 1
            self.kept[ident] = picture
            while len(self.kept) > MAX_KEPT:
                self.kept.popitem(last=False)
            return picture
        return await asyncio.shield(fut)
