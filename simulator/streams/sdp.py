"""Session descriptions (RFC 4566) for a camera stream: one video track, its codec parameters."""

from __future__ import annotations

from base64 import b64encode

from simulator.streams.encoder import Clip
from simulator.streams.rtp import PAYLOAD_TYPES

TRACK = "trackID=0"


def _b64(data: bytes) -> str:
    return b64encode(data).decode()


def fmtp(clip: Clip) -> str | None:
    """The `a=fmtp` value for the clip's codec (None for JPEG, which needs none)."""
    p = clip.params
    if clip.codec == "h264":
        profile = p["sps"][1:4].hex().upper()
        sets = f"{_b64(p['sps'])},{_b64(p['pps'])}"
        return f"packetization-mode=1;profile-level-id={profile};sprop-parameter-sets={sets}"
    if clip.codec == "h265":
        return f"sprop-vps={_b64(p['vps'])};sprop-sps={_b64(p['sps'])};sprop-pps={_b64(p['pps'])}"
    return None


def describe(clip: Clip, host: str, name: str, session_id: int) -> str:
    """The SDP of a stream whose media come from `clip`."""
    pt = PAYLOAD_TYPES[clip.codec]
    rtpmap = {"h264": "H264/90000", "h265": "H265/90000", "mjpeg": "JPEG/90000"}[clip.codec]
    family = "IP6" if ":" in host else "IP4"
    lines = [
        "v=0",
        f"o=- {session_id} 1 IN {family} {host}",
        f"s={name}",
        f"c=IN {family} {'::' if family == 'IP6' else '0.0.0.0'}",
        "t=0 0",
        "a=tool:camsim",
        "a=range:npt=now-",
        "a=control:*",
        f"m=video 0 RTP/AVP {pt}",
        f"a=rtpmap:{pt} {rtpmap}",
    ]
    f = fmtp(clip)
    if f:
        lines.append(f"a=fmtp:{pt} {f}")
    lines += [
        f"a=framerate:{clip.fps:g}",
        f"a=x-dimensions:{clip.width},{clip.height}",
        f"a=control:{TRACK}",
        "a=recvonly",
    ]
    return "\r\n".join(lines) + "\r\n"
