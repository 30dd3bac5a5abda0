"""What each camera says about itself over ONVIF: a Device and its stream profiles.

Built once from the served cameras (the scenario's group, district, codec, resolution, rate,
GOP and bitrate, and the stream's RTSP URL); the services only read it. The scenario has no
PTZ field: a camera is PTZ when its group is a dome (is_ptz: a word of the group's name is
`dome` or `ptz`, as Strasbourg's `centre-dome`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from simulator.streams.server import CameraServer

MANUFACTURER = "camsim"
#: Each camera's one video source and its configuration, as profiles and events name them.
SOURCE = "video_source"
SOURCE_CONFIG = "video_source_config"
SUBSCRIPTIONS = "/onvif/subscription/"  # + a subscription's id: its address's path
PTZ_WORDS = ("dome", "ptz")  # a group named with one of these words is PTZ


def is_ptz(group: str) -> bool:
    """Whether a camera group's cameras have PTZ: a word of its name (split at - _ . and
    spaces) is one of PTZ_WORDS, whatever its case."""
    words = group.lower().replace("_", "-").replace(".", "-").replace(" ", "-").split("-")
    return any(w in PTZ_WORDS for w in words)


@dataclass(frozen=True)
class StreamProfile:
    """A media profile: one of a camera's streams (main, sub) as the scenario sets it."""

    name: str  # main | sub: also the profile's token
    codec: str  # h264 | h265 | mjpeg
    width: int
    height: int
    fps: float
    gop: int
    bitrate_kbps: int
    rtsp_url: str

    @property
    def encoding(self) -> str | None:
        """The Media (ver10) encoding, None where ver10 has none (H.265: Media2's)."""
        return {"h264": "H264", "mjpeg": "JPEG"}.get(self.codec)


@dataclass(frozen=True)
class Device:
    """One camera as an ONVIF device: identity, where its services answer, its profiles."""

    id: str
    group: str
    district: str
    host: str
    port: int
    profiles: tuple[StreamProfile, ...]
    ptz: bool = False  # a PTZ camera (is_ptz of its group): it has the PTZ service

    @property
    def base(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def device_xaddr(self) -> str:
        return f"{self.base}/onvif/device_service"

    @property
    def media_xaddr(self) -> str:
        return f"{self.base}/onvif/media_service"

    @property
    def media2_xaddr(self) -> str:
        return f"{self.base}/onvif/media2_service"

    @property
    def events_xaddr(self) -> str:
        return f"{self.base}/onvif/event_service"

    @property
    def ptz_xaddr(self) -> str:
        return f"{self.base}/onvif/ptz_service"

    def subscription_address(self, sub_id: str) -> str:
        """Where a PullPoint subscription is pulled, renewed and ended."""
        return f"{self.base}{SUBSCRIPTIONS}{sub_id}"

    def snapshot_url(self, profile: str) -> str:
        return f"{self.base}/onvif/snapshot/{profile}.jpg"

    @property
    def uuid(self) -> str:
        """A stable endpoint reference (urn:uuid) from the camera's id."""
        h = hashlib.sha1(f"camsim:{self.id}".encode()).hexdigest()  # noqa: S324
        return f"urn:uuid:{h[:8]}-{h[8:12]}-5{h[13:16]}-8{h[17:20]}-{h[20:32]}"

    @property
    def mac(self) -> str:
        """A locally administered MAC address from the camera's id."""
        h = hashlib.sha1(f"mac:{self.id}".encode()).digest()  # noqa: S324
        return ":".join(f"{b:02x}" for b in (0x02, *h[:5]))

    def scopes(self) -> list[str]:
        """The device's scope URIs (type, name, location, hardware)."""
        from urllib.parse import quote

        return [
            "onvif://www.onvif.org/type/video_encoder",
            "onvif://www.onvif.org/Profile/Streaming",
            f"onvif://www.onvif.org/name/{quote(self.id, safe='')}",
            f"onvif://www.onvif.org/location/{quote(self.district, safe='')}",
            f"onvif://www.onvif.org/hardware/{quote(self.group, safe='')}",
        ] + (["onvif://www.onvif.org/type/ptz"] if self.ptz else [])

    def profile(self, token: str | None) -> StreamProfile | None:
        return next((p for p in self.profiles if p.name == token), None)


def describe(server: CameraServer, host: str, ports: dict[str, int]) -> list[Device]:
    """A Device per served camera whose ONVIF port is in `ports` (camera id → port)."""
    out = []
    for plan in server.plans:
        if plan.id not in ports:
            continue
        profiles = []
        for name, (day, _night) in plan.streams.items():
            sc = day.scene
            profiles.append(
                StreamProfile(name, day.codec, sc.width, sc.height, sc.fps, day.gop,
                              round(day.target_bps / 1000), server.url(plan.id, name))
            )  # fmt: skip
        out.append(Device(plan.id, plan.group, plan.district, host, ports[plan.id],
                          tuple(profiles), is_ptz(plan.group)))  # fmt: skip
    return out
