"""The timeline: the model's discrete events in simulated time, as executors replay them.

One event per line in JSON Lines. `t` is seconds since the simulation start. An event names a
camera, or a district (a district-wide event such as a reconnect storm), or neither (city-wide,
such as nightfall). The kinds the model emits are listed in KINDS.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

KINDS = {
    "camera_down": "camera fails: no stream until camera_up",
    "camera_up": "camera repaired: stream resumes",
    "link_down": "a link fails: cameras behind it are unreachable unless a backup carries them",
    "link_up": "a link is repaired",
    "server_down": "a recording server fails: its cameras are not recorded",
    "server_up": "a recording server is repaired",
    "night": "dusk: cameras switch to night behaviour",
    "day": "dawn: cameras switch to day behaviour",
    "activity": "a district's activity episode starts (params: factor, duration_s)",
    "stream_freeze": "a camera's stream stops sending frames (params: duration_s)",
    "frame_drops": "a camera drops frames (params: rate 0..1, duration_s)",
    "packet_loss": "a camera's RTP packets are lost (params: percent, duration_s)",
    "jitter": "a camera's frames are delayed at random (params: ms, duration_s)",
    "bitrate_spike": "a camera's bitrate is multiplied (params: factor, duration_s)",
    "reconnect_storm": "every camera of a district drops its client connections at once",
    "clock_jump": "a camera's wall clock jumps (params: offset_s)",
}


@dataclass(frozen=True, order=True)
class Event:
    """Something that happens at time `t` (seconds since the simulation start)."""

    t: float
    kind: str
    camera: str | None = None
    district: str | None = None
    target: str | None = None  # the link or server an event is about
    params: dict[str, Any] = field(default_factory=dict, compare=False)

    def to_json(self) -> str:
        data = {k: v for k, v in asdict(self).items() if v not in (None, {})}
        data["t"] = round(self.t, 3)
        return json.dumps(data, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, line: str) -> Event:
        return cls(**json.loads(line))


def write_jsonl(events: Iterable[Event], out: TextIO) -> int:
    """Write events one per line; return how many."""
    n = 0
    for event in events:
        out.write(event.to_json() + "\n")
        n += 1
    return n


def read_jsonl(path: str | Path) -> Iterator[Event]:
    """Read a timeline written by write_jsonl."""
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield Event.from_json(line)
