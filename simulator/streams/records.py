"""What `camsim serve` tells other processes: its ready line on stdout and a row of its
GET /api/cameras. Written here, read through these classes; the JSON keeps the field names
and order below, which scripts reading it as plain dictionaries rely on."""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from typing import Any

READY = "ready"  # the ready line's "camsim" field


@dataclass(frozen=True)
class ReadyLine:
    """The one JSON line `camsim serve` prints on stdout once every stream can be served."""

    rtsp: str  # rtsp://HOST:PORT/
    rtsp_port: int
    udp_ports: list[int]  # the first and last UDP port of RTP/RTCP
    api: str  # http://HOST:PORT/, the control API
    api_port: int
    urls: str  # <API>/api/cameras: the cameras and their stream URLs
    cameras: int
    streams: int
    timeline_events: int
    speed: float
    start_at: float
    replay: str  # "started" or what starts it
    token: str  # the API's bearer token: Authorization: Bearer <token>

    def to_dict(self) -> dict[str, Any]:
        """The line as a dictionary, "camsim": "ready" first."""
        return {"camsim": READY, **{f.name: getattr(self, f.name) for f in fields(self)}}

    def to_json(self) -> str:
        """The line as printed (compact, no newline)."""
        return json.dumps(self.to_dict(), separators=(",", ":"))

    @staticmethod
    def is_ready(data: dict[str, Any]) -> bool:
        """Whether a JSON object read from serve's stdout is its ready line."""
        return data.get("camsim") == READY

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReadyLine:
        """The ready line from its dictionary (fields it does not know are ignored)."""
        if not cls.is_ready(data):
            raise ValueError(f"not camsim serve's ready line: {str(data)[:200]}")
        return cls(**{f.name: data[f.name] for f in fields(cls)})

    @classmethod
    def from_json(cls, line: str) -> ReadyLine:
        """The ready line from its JSON text; ValueError for any other line."""
        return cls.from_dict(json.loads(line))


@dataclass
class StreamRow:
    """One stream of a camera in GET /api/cameras: where it is, what is on the wire now (the
    day or night loop) and its counters since serve started."""

    url: str
    codec: str
    width: int
    height: int
    fps: float
    bitrate_mbps: float  # the loop on the wire now
    target_mbps: float  # the scenario's bitrate for it
    clients: int  # playing
    frames_sent: int
    bytes_sent: int
    frames_due: int
    late_skips: int
    fault_drops: int
    target_drops: int
    unsent_bytes: int
    keyframe_wait_skips: int

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StreamRow:
        return cls(**{f.name: data[f.name] for f in fields(cls)})


@dataclass
class CameraRow:
    """One camera in GET /api/cameras: its state, the faults in effect and its streams by
    name ("main", "sub", ...)."""

    id: str
    district: str
    state: str  # "online" or "offline"
    night: bool
    faults: list[str]  # the faults in effect (names)
    streams: dict[str, StreamRow]

    @property
    def main(self) -> StreamRow:
        """Its main stream, the one a recorder records."""
        return self.streams["main"]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "district": self.district, "state": self.state,
                "night": self.night, "faults": self.faults,
                "streams": {n: s.to_dict() for n, s in self.streams.items()}}  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CameraRow:
        streams = {n: StreamRow.from_dict(s) for n, s in data["streams"].items()}
        return cls(data["id"], data["district"], data["state"], data["night"],
                   data["faults"], streams)  # fmt: skip


def cameras_from_json(rows: list[dict[str, Any]]) -> list[CameraRow]:
    """GET /api/cameras's answer, read."""
    return [CameraRow.from_dict(r) for r in rows]
