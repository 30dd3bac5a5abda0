"""The actions log: one JSON line per action done, for a harness that keeps a ledger.

Each line is an ActionRow (simulator/timeline/actionrow.py; the lab reads it): {"end": Unix
time the action ended, "kind", "camera", "latency_s" (the whole action), "planned_s" (of which
watching or waiting by design), "ok", "error"}. Every Locust process appends to the same file.

Lines are buffered (a write per action cost a system call per action) and written whole, in
one `write` on a file opened for appending (which the kernel does not interleave with another
process's): at the latest `FLUSH_S` after the first line waiting, at once when `MAX_BYTES` are
waiting, and at the end of the test (the locustfile flushes it then). A reader (the lab) sees
each action within `FLUSH_S` of its end, never a line cut by another's.
"""

from __future__ import annotations

import os
import time
from typing import Any

import gevent

from loadtests.users.actions import ACTION
from simulator.timeline.actionrow import ActionRow

MAX_ERROR = 200  # characters of an error kept
FLUSH_S = 1.0  # a line waits at most this long before it is written
MAX_BYTES = 64 * 1024  # written at once when this much is waiting


class ActionLog:
    """A Locust `events.request` listener that appends each ACTION to a file (buffered)."""

    def __init__(self, path: str, flush_s: float = FLUSH_S, max_bytes: int = MAX_BYTES) -> None:
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self.flush_s, self.max_bytes = flush_s, max_bytes
        self.lines: list[str] = []
        self.size = 0
        self.timer: gevent.Greenlet | None = None

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
        line = row.to_json() + "\n"
        self.lines.append(line)
        self.size += len(line)
        if self.size >= self.max_bytes:
            self.flush()
        elif self.timer is None:
            self.timer = gevent.spawn_later(self.flush_s, self.flush)

    def flush(self) -> None:
        """Write the lines waiting, in one write."""
        if self.timer is not None and self.timer is not gevent.getcurrent():
            self.timer.kill(block=False)
        self.timer = None
        if not self.lines:
            return
        data = "".join(self.lines).encode()
        self.lines.clear()
        self.size = 0
        while data:  # one write unless the disk is full or a signal cuts it
            data = data[os.write(self.fd, data) :]

    def close(self) -> None:
        if self.fd >= 0:
            self.flush()
            os.close(self.fd)
            self.fd = -1
