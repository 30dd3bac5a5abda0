"""The actions log: one JSON line per action done, for a harness that keeps a ledger.

Each line is an ActionRow (simulator/timeline/actionrow.py; the lab reads it): {"end": Unix
time the action ended, "kind", "camera", "latency_s" (the whole action), "planned_s" (of which
watching or waiting by design), "ok", "error"}. Every Locust
process appends to the same file; a line is one write of well under the size the kernel
appends atomically, so lines never interleave.
"""

from __future__ import annotations

import time
from typing import Any

from loadtests.users.actions import ACTION
from simulator.timeline.actionrow import ActionRow

MAX_ERROR = 200  # characters of an error kept


class ActionLog:
    """A Locust `events.request` listener that appends each ACTION to a file."""

    def __init__(self, path: str) -> None:
        self.file = open(path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115 - one line a write

    def on_request(self, request_type: str, name: str, response_time: float,
                   exception: Any = None, context: dict | None = None,
                   **_: Any) -> None:  # fmt: skip
        if request_type != ACTION:
            return
        context = context or {}
        row = ActionRow(
            end=round(time.time(), 3),
            kind=name,
            camera=context.get("camera"),
            latency_s=response_time / 1000,
            planned_s=context.get("planned_s", 0.0),
            ok=exception is None,
            error=None if exception is None else str(exception)[:MAX_ERROR],
        )
        self.file.write(row.to_json() + "\n")

    def close(self) -> None:
        self.file.close()
