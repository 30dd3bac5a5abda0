"""A line of the actions log (`actions.jsonl`): one action the operators' load did.

The load (`loadtests/actionlog.py`) writes it; the lab (`lab/load.py`) reads it into its
ledger. It lives with the timeline, whose actions it records, on a floor below both the
load and the lab, so neither imports the other for it (tests/test_floors.py). The JSON keeps
the field names and order below, which scripts reading the log as plain dictionaries rely on."""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from typing import Any


@dataclass(frozen=True)
class ActionRow:
    """One action done: when it ended, what and on which camera, how long it took (of which
    how much watching or waiting by design), and whether it failed."""

    end: float  # Unix time the action ended
    kind: str  # live_view, playback, ...
    camera: str | None
    latency_s: float  # the whole action
    planned_s: float  # of which watching or waiting by design
    ok: bool
    error: str | None  # what failed, cut short

    @property
    def start(self) -> float:
        """Unix time the action started."""
        return self.end - self.latency_s

    @property
    def response_s(self) -> float:
        """The target's part of the latency: the whole less what is planned."""
        return max(0.0, self.latency_s - self.planned_s)

    def to_json(self) -> str:
        """The line as written (without its newline)."""
        return json.dumps({f.name: getattr(self, f.name) for f in fields(self)})

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ActionRow:
        """The row from its dictionary; a line without planned_s planned nothing."""
        return cls(data["end"], data["kind"], data["camera"], data["latency_s"],
                   data.get("planned_s", 0.0), data["ok"], data["error"])  # fmt: skip

    @classmethod
    def from_json(cls, line: str | bytes) -> ActionRow:
        """The row from one line of the log."""
        return cls.from_dict(json.loads(line))
