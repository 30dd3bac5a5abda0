"""Encoding a scene once into a GOP-aligned loop: H.264/H.265 with PyAV, MJPEG with OpenCV.

A loop holds a whole, even number of closed GOPs without B-frames and starts with an IDR
picture, so replaying it back to back decodes without errors at the seam. Parameter sets are
repeated before every IDR, so a client can join at any keyframe. H.26x loops are encoded in
two passes when one misses the target bitrate; MJPEG takes the quality that comes closest.
"""

from __future__ import annotations

import math
import os
import re
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property

import numpy as np

from simulator.streams.scenes import SceneSpec, render

_START_CODE = re.compile(b"\x00\x00\x01")
#: NAL unit types dropped from loops: encoder-information SEI (H.264 6, H.265 39/40).
_DROP = {"h264": {6}, "h265": {39, 40}}
#: A first encoding pass this close to the target bitrate is kept (relative).
RATE_TOLERANCE = 0.03
MAX_PASSES = 3


@dataclass(frozen=True)
class EncodeSpec:
    """A loop to build: the scene, the codec, its GOP and the target mean bitrate."""

    scene: SceneSpec
    codec: str  # h264 | h265 | mjpeg
    gop: int
    target_bps: float
    cap_factor: float = 1.5


@dataclass
class Clip:
    """An encoded loop: per frame, its NAL units (no start codes) or one JPEG image."""

    codec: str
    width: int
    height: int
    fps: float
    gop: int
    frames: list[list[bytes]]
    keyframes: list[bool]
    params: dict[str, bytes] = field(default_factory=dict)  # vps/sps/pps

    @property
    def duration_s(self) -> float:
        return len(self.frames) / self.fps

    @cached_property
    def nbytes(self) -> int:
        """Payload bytes of the loop (a clip is not changed once built; /api/cameras asks
        for each stream's rate every time)."""
        return sum(len(u) for f in self.frames for u in f)

    @property
    def bitrate_bps(self) -> float:
        """Achieved mean bitrate of the loop (payload bytes, without RTP overhead)."""
        return self.nbytes * 8 / self.duration_s


def loop_frames(fps: float, gop: int, seconds: float) -> int:
    """Frames in a loop of about `seconds`: an even number (≥ 2) of whole GOPs."""
    gops = max(2, math.ceil(seconds * fps / gop))
    return (gops + gops % 2) * gop


def split_annexb(data: bytes) -> list[bytes]:
    """Split an Annex B byte stream into NAL units without start codes."""
    out = []
    for chunk in _START_CODE.split(data):
        chunk = chunk.rstrip(b"\x00")
        if chunk:
            out.append(chunk)
    return out


def nal_type(codec: str, nal: bytes) -> int:
    """The NAL unit type of an H.264 or H.265 NAL unit."""
    return nal[0] & 0x1F if codec == "h264" else (nal[0] >> 1) & 0x3F


def encode(spec: EncodeSpec, progress: Callable[[float], None] | None = None) -> Clip:
    """Render and encode the loop described by `spec`; `progress` gets the frames done."""
    if spec.codec == "mjpeg":
        return _encode_mjpeg(spec, render(spec.scene), progress)
    return _encode_h26x(spec, progress)


def _encode_h26x(spec: EncodeSpec, progress: Callable[[float], None] | None) -> Clip:
    """Multi-pass rate control: a first pass within RATE_TOLERANCE of the target bitrate is
    kept; otherwise later passes spend the bits where the first one's statistics say, the
    budget corrected by what the pass before achieved (one-pass ABR undershoots short loops:
    x265 by a quarter, x264 by up to a tenth)."""
    half = None if progress is None else (lambda n: progress(n / 2))
    target = spec.target_bps / 1000
    cap = target * spec.cap_factor
    kbps = target
    with tempfile.TemporaryDirectory(prefix="camsim-rc-") as tmp:
        stats = os.path.join(tmp, "stats")
        clip = _h26x_pass(spec, kbps, f"pass=1:stats={stats}", half)
        passes = 1
        while passes < MAX_PASSES and abs(clip.bitrate_bps / spec.target_bps - 1) > RATE_TOLERANCE:
            if passes > 1:
                kbps = min(cap, kbps * spec.target_bps / clip.bitrate_bps)
            passes += 1
            clip = _h26x_pass(spec, kbps, f"pass=2:stats={stats}", half if passes == 2 else None)
    if passes == 1 and half is not None:  # the first pass is kept: its frames count twice
        half(spec.scene.frames)
    return clip


def _h26x_pass(
    spec: EncodeSpec, kbps: float, rc: str, progress: Callable[[float], None] | None
) -> Clip:
    """One encoding pass at `kbps` mean (the peak cap and buffer stay the target's)."""
    import av
    from av.video.reformatter import ColorRange, Colorspace

    bt709, limited = Colorspace.ITU709, ColorRange.MPEG
    s = spec.scene
    target = max(16, int(spec.target_bps / 1000))
    ctx = av.CodecContext.create("libx264" if spec.codec == "h264" else "libx265", "w")
    ctx.width, ctx.height, ctx.pix_fmt = s.width, s.height, "yuv420p"
    rate = Fraction(s.fps).limit_denominator(1001)
    ctx.framerate = rate
    ctx.time_base = 1 / rate
    ctx.bit_rate = max(16, int(kbps)) * 1000
    ctx.gop_size = spec.gop
    ctx.max_b_frames = 0
    common = (
        f"keyint={spec.gop}:min-keyint={spec.gop}:scenecut=0:bframes=0:open-gop=0:"
        f"repeat-headers=1:vbv-maxrate={int(target * spec.cap_factor)}:vbv-bufsize={target}:{rc}"
    )
    # The full colour description in the VUI (what the pictures are converted with below):
    # decoders and players that validate it (GStreamer) warn of a range without a matrix.
    colour = "colorprim=bt709:transfer=bt709:colormatrix=bt709:range="
    if spec.codec == "h264":
        ctx.options = {"preset": "veryfast", "x264-params": f"{common}:{colour}tv:threads=1"}
    else:
        ctx.options = {
            "preset": "ultrafast",
            "x265-params": f"{common}:{colour}limited:log-level=error:pools=1:frame-threads=1",
        }
    out: list[list[bytes]] = []
    keys: list[bool] = []
    params: dict[str, bytes] = {}

    def take(packets: Iterable) -> None:
        for packet in packets:
            nals = [
                n
                for n in split_annexb(bytes(packet))
                if nal_type(spec.codec, n) not in _DROP[spec.codec]
            ]
            _collect_params(spec.codec, nals, params)
            out.append(nals)
            keys.append(bool(packet.is_keyframe))

    for i, img in enumerate(render(s)):
        frame = av.VideoFrame.from_ndarray(img, format="bgr24").reformat(
            format="yuv420p", dst_colorspace=bt709, dst_color_range=limited
        )
        frame.pts = i
        take(ctx.encode(frame))
        if progress:
            progress(1)
    take(ctx.encode(None))
    if (
        len(out) != s.frames
        or not keys[0]
        or any(keys[i] != (i % spec.gop == 0) for i in range(len(keys)))
    ):
        raise RuntimeError(f"{spec.codec} encoder did not produce a GOP-aligned loop")
    return Clip(spec.codec, s.width, s.height, s.fps, spec.gop, out, keys, params)


def _collect_params(codec: str, nals: list[bytes], params: dict[str, bytes]) -> None:
    names = {7: "sps", 8: "pps"} if codec == "h264" else {32: "vps", 33: "sps", 34: "pps"}
    for nal in nals:
        name = names.get(nal_type(codec, nal))
        if name and name not in params:
            params[name] = nal


def _encode_mjpeg(
    spec: EncodeSpec, frames: Iterable[np.ndarray], progress: Callable[[float], None] | None
) -> Clip:
    """Every frame at the JPEG quality whose whole loop comes closest to the target: the
    quality that fits the first frame, and the qualities next to it, are all tried."""
    import cv2

    s = spec.scene
    if s.width > 2040 or s.height > 2040 or s.width % 8 or s.height % 8:
        raise ValueError(
            "RTP/JPEG (RFC 2435) needs sizes that are multiples of 8 up to 2040, "
            f"got {s.width}x{s.height}"
        )
    target_bytes = spec.target_bps / 8 / s.fps
    tried: dict[int, list[bytes]] = {}
    for img in frames:
        if not tried:
            first = _quality_for(img, target_bytes)
            tried = {q: [] for q in range(max(1, first - 2), min(100, first + 2) + 1)}
        for q, images in tried.items():
            ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, q])
            if not ok:
                raise RuntimeError("OpenCV could not encode a JPEG image")
            images.append(buf.tobytes())
        if progress:
            progress(1)
    mean = {q: sum(map(len, images)) / len(images) for q, images in tried.items()}
    best = min(mean, key=lambda q: abs(math.log(mean[q] / target_bytes)))
    out = [[image] for image in tried[best]]
    return Clip("mjpeg", s.width, s.height, s.fps, 1, out, [True] * len(out))


def _quality_for(img: np.ndarray, target_bytes: float) -> int:
    """The highest JPEG quality whose image is no bigger than the target (bisection)."""
    import cv2

    lo, hi = 1, 100
    while lo < hi:
        mid = (lo + hi + 1) // 2
        size = len(cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, mid])[1])
        if size <= target_bytes:
            lo = mid
        else:
            hi = mid - 1
    return lo
