"""The PTZ commands the cameras received: a bounded in-memory log, newest last.

Every PTZ command that reaches a camera's PTZ service (AbsoluteMove, RelativeMove,
ContinuousMove, Stop, GotoPreset, SetPreset, RemovePreset, GotoHomePosition,
SetHomePosition; not the queries) is one entry: a sequence number, the host's Unix time at
its arrival, the camera, the operation, its arguments as read (a text kept to MAX_TEXT
characters), and the fault it was answered with (None when it was done). The log is a ring of
CAPACITY entries: the oldest go first, and `total` still counts them, so a reader polling it
knows what it missed. It is what the control API's GET /api/onvif/ptz returns, for a lab to
match the operators' actions to their arrival at the cameras.
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

CAPACITY = 10_000  # entries kept (a few hundred bytes each: a few MB at most)
MAX_TEXT = 64  # characters of a text argument kept (a token or a name: tt:Name is 64)


@dataclass(frozen=True)
class Command:
    """One PTZ command as it arrived at a camera."""

    seq: int  # 1, 2, … over the serve's life
    wall: float  # host Unix time of its arrival (s)
    camera: str
    kind: str  # the operation's name, e.g. AbsoluteMove
    args: dict[str, Any]
    fault: str | None  # the SOAP fault's subcode it was answered with, None when done


class PtzLog:
    """A ring of the last CAPACITY commands, and how many arrived in all."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self.entries: deque[Command] = deque(maxlen=capacity)
        self.total = 0

    def add(
        self, wall: float, camera: str, kind: str, args: dict[str, Any], fault: str | None
    ) -> Command:
        self.total += 1
        kept = {k: v[:MAX_TEXT] if isinstance(v, str) else v for k, v in args.items()}
        entry = Command(self.total, wall, camera, kind, kept, fault)
        self.entries.append(entry)
        return entry

    def to_json(self, since: int = 0) -> dict[str, Any]:
        """The log as JSON: capacity, total, dropped (left the ring), and the commands kept
        whose seq is above `since`."""
        kept = [asdict(c) for c in self.entries if c.seq > since]
        for c in kept:
            c["wall"] = round(c["wall"], 6)
        return {
            "capacity": self.entries.maxlen,
            "total": self.total,
            "dropped": self.total - len(self.entries),
            "commands": kept,
        }
