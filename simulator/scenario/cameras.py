"""The scenario's cameras: a group's resolution, codec, bitrate, GOP, night and recording, and
the sub-stream; each default names its source in docs/defaults.md (a line of REFERENCE.md).
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from simulator.limits import shown
from simulator.scenario.base import NonNegative, Positive, Reliability, Strict

RESOLUTIONS: dict[str, tuple[int, int]] = {
    "360p": (640, 360),
    "480p": (854, 480),
    "d1": (704, 576),
    "720p": (1280, 720),
    "1080p": (1920, 1080),
    "4mp": (2560, 1440),
    "5mp": (2592, 1944),
    "4k": (3840, 2160),
}


def parse_resolution(value: str) -> tuple[int, int]:
    """`1080p`, `4k` or `WIDTHxHEIGHT` → (width, height)."""
    key = value.strip().lower()
    if key in RESOLUTIONS:
        return RESOLUTIONS[key]
    m = re.fullmatch(r"(\d{2,5})x(\d{2,5})", key)
    if not m:
        raise ValueError(
            f"expected one of {', '.join(RESOLUTIONS)} or WIDTHxHEIGHT, got {shown(value)}"
        )
    return int(m.group(1)), int(m.group(2))


def _resolution(value: str) -> str:
    parse_resolution(value)
    return value


Resolution = Annotated[str, AfterValidator(_resolution)]


class Bitrate(Strict):
    """Main-stream rate control. Without `target_mbps` the resolution ladder sets it."""

    mode: Literal["cbr", "vbr"] = Field(
        "vbr", description="Rate control: constant (`cbr`) or variable (`vbr`) bitrate"
    )
    target_mbps: Positive | None = Field(
        None,
        description=(
            "Main-stream mean bitrate for a normal scene, Mbit/s; none: from the resolution ladder"
            " (REFERENCE.md § Video traffic)"
        ),
    )
    cap_factor: Annotated[float, Field(ge=1)] = Field(
        1.5, description="VBR peak cap, × the mean bitrate"
    )


class SubStream(Strict):
    """Low-resolution live-view stream. Without `bitrate_mbps` it is 1/10 of the main stream."""

    enabled: bool = Field(True, description="Whether the camera sends a sub-stream")
    resolution: Resolution = Field(
        "360p",
        description="Sub-stream size: 360p, 480p, d1, 720p, 1080p, 4mp, 5mp, 4k or WIDTHxHEIGHT",
    )
    fps: Annotated[float, Field(gt=0, le=120)] = Field(
        7, description="Sub-stream frames per second"
    )
    bitrate_mbps: Positive | None = Field(
        None,
        description=(
            "Sub-stream bitrate, Mbit/s; none: 1/10 of the main stream (REFERENCE.md § Video "
            "traffic, Hanwha/Nx)"
        ),
    )


class GopStructure(Strict):
    """Frame types within the main stream's GOP: B-frames between reference frames, and the
    mean size of an I- and of a B-frame relative to a P-frame. The defaults (IP-only, I = 5 P)
    are assumptions; tests/data/asu-parking-lot.yaml sets a real trace's. The sizing model
    uses it; `camsim serve` encodes IP-only streams whatever it says (replaying reordered
    B-frames over RTP is not built)."""

    b_frames: Annotated[int, Field(ge=0, le=7)] = Field(
        0, description="B-frames between two reference frames (0: IP-only)"
    )
    i_to_p: Annotated[float, Field(ge=1, le=100)] = Field(
        5.0, description="Mean I-frame size, × a P-frame's"
    )
    b_to_p: Annotated[float, Field(gt=0, le=1)] = Field(
        0.5, description="Mean B-frame size, × a P-frame's (used only with B-frames)"
    )


class Night(Strict):
    """Night-time behaviour: the factor multiplies the VBR bitrate between dusk and dawn."""

    bitrate_factor: Positive = Field(
        1.3, description="VBR bitrate multiplier between dusk and dawn, ×"
    )


class Recording(Strict):
    """What a recorder keeps of this camera's main stream."""

    mode: Literal["continuous", "motion", "off"] = Field(
        "continuous",
        description=(
            "What the recorder keeps: everything (`continuous`), motion episodes with their "
            "buffers (`motion`), or nothing (`off`)"
        ),
    )
    pre_s: NonNegative = Field(
        5.0, description="Motion recording: seconds kept before each episode"
    )
    post_s: NonNegative = Field(
        10.0, description="Motion recording: seconds kept after each episode"
    )
    motion_episodes_per_h: NonNegative = Field(
        6.0, description="Motion episodes per hour at medium activity (Poisson)"
    )
    motion_mean_s: Positive = Field(
        30.0, description="Mean length of a motion episode, seconds (exponential)"
    )


class CameraGroup(Strict):
    """A set of identical cameras in one district."""

    name: str = Field(description="The group's name, the prefix of its cameras' ids")
    count: Annotated[int, Field(ge=1, le=100_000)] = Field(description="Cameras in the group")
    district: str = Field(
        description="The network district the cameras hang off (a `network.districts[].name`)"
    )
    resolution: Resolution = Field(
        "1080p",
        description=(
            "Main-stream size: 360p, 480p, d1, 720p, 1080p, 4mp, 5mp, 4k or WIDTHxHEIGHT (French "
            "law: at least 704×576 for narrow-field cameras, REFERENCE.md § Law)"
        ),
    )
    fps: Annotated[float, Field(gt=0, le=120)] = Field(
        25,
        description=(
            "Main-stream frames per second (French law: at least 12 for narrow-field cameras "
            "filming people, 6 otherwise, REFERENCE.md § Law)"
        ),
    )
    codec: Literal["h264", "h265", "mjpeg"] = Field("h264", description="Main-stream codec")
    gop: Annotated[int, Field(ge=1, le=1000)] = Field(
        50, description="Frames per group of pictures (one I-frame each)"
    )
    gop_structure: GopStructure = Field(GopStructure(), description="Frame types within the GOP")
    bitrate: Bitrate = Field(Bitrate(), description="Main-stream rate control and mean bitrate")
    scene: Literal["simple", "normal", "complex"] = Field(
        "normal",
        description=(
            "Scene complexity, scaling the bitrate × 0.5 / 1 / 1.5 (REFERENCE.md § Video traffic, "
            "IPVM 2016)"
        ),
    )
    activity: Literal["low", "medium", "high"] = Field(
        "medium", description="Street activity in view, scaling the hourly profile × 0.5 / 1 / 1.5"
    )
    night: Night = Field(Night(), description="Night-time bitrate")
    sub_stream: SubStream = Field(SubStream(), description="The low-resolution live-view stream")
    recording: Recording = Field(
        Recording(), description="What the recorder keeps of the main stream"
    )
    reliability: Reliability = Field(Reliability(), description="Camera failures and repairs")

    @model_validator(mode="after")
    def _servable(self) -> CameraGroup:
        """Refuse sizes the synthetic cameras cannot encode or send (`camsim serve`)."""
        sizes = [("resolution", self.resolution)]
        if self.sub_stream.enabled:
            sizes.append(("sub_stream.resolution", self.sub_stream.resolution))
        for name, value in sizes:
            w, h = parse_resolution(value)
            if self.codec == "mjpeg" and (w > 2040 or h > 2040 or w % 8 or h % 8):
                raise ValueError(
                    f"{name}: {value} ({w}x{h}) cannot be sent as MJPEG: RTP/JPEG (RFC 2435) "
                    "needs width and height that are multiples of 8, at most 2040"
                )
            if self.codec != "mjpeg" and (w % 2 or h % 2):
                raise ValueError(
                    f"{name}: {value} ({w}x{h}) cannot be encoded as {self.codec}: 4:2:0 "
                    "video needs an even width and height"
                )
        b = self.gop_structure.b_frames
        if b and (self.codec == "mjpeg" or b >= self.gop):
            allowed = "0 for MJPEG" if self.codec == "mjpeg" else f"at most {self.gop - 1}"
            raise ValueError(f"gop_structure.b_frames: {b} in a GOP of {self.gop}: {allowed}")
        return self
