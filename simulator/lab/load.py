"""The operators' load under the lab's supervision: a `camsim loadtest` child process and
the actions it reports, read into the ledger interval by interval."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simulator.lab.processes import end, tied
from simulator.timeline.actionrow import ActionRow


@dataclass
class Load:
    """A running `camsim loadtest` and how far its actions log has been read."""

    proc: subprocess.Popen
    log: Path  # its actions log (JSON Lines of ActionRow)
    summary: Path
    offset: int = 0
    done: int = 0
    failed: int = 0
    tail: list[str] = field(default_factory=list)

    @classmethod
    def start(cls, args: list[str], out: Path) -> Load:
        """Start the load; its temporary files (Locust's CSV, its log) go to OUT/load-tmp, which
        a load killed with the lab leaves behind and the next start in OUT clears."""
        log, summary = out / "actions.jsonl", out / "load-summary.json"
        log.write_text("")  # this run's actions only
        tmp = temp_dir(out)
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        cmd = [sys.executable, "-m", "simulator.cli", "loadtest", *args,
               "--actions-log", str(log), "--summary", str(summary)]  # fmt: skip
        env = {**os.environ, "TMPDIR": str(tmp.resolve())}  # Python's tempfile reads it
        with open(out / "load.log", "w", encoding="utf-8") as err:
            proc = subprocess.Popen(tied(cmd), stdout=err, stderr=subprocess.STDOUT, env=env)
        return cls(proc, log, summary)

    def actions(self) -> list[tuple]:
        """Actions done since the last call, as ledger rows (kind, camera, due, start,
        latency_s, ok, error), the latency being the target's: the action's time less what it
        spends watching or waiting by design; a line still being written waits for the next
        call."""
        with open(self.log, "rb") as f:
            f.seek(self.offset)
            data = f.read()
        whole = data.rfind(b"\n") + 1
        self.offset += whole
        rows = []
        for line in data[:whole].splitlines():
            a = ActionRow.from_json(line)
            rows.append((a.kind, a.camera, None, a.start, a.response_s, int(a.ok), a.error))
            self.done += 1
            self.failed += not a.ok
        return rows

    def finish(self, timeout_s: float) -> dict[str, Any] | None:
        """Wait for the load to end (its run time and grace), then its summary."""
        try:
            self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            end(self.proc)
        self._clear()
        if self.summary.exists() and self.summary.stat().st_size:
            return json.loads(self.summary.read_text())
        return None

    def stop(self) -> None:
        end(self.proc)
        self._clear()

    def _clear(self) -> None:
        """Remove the temporary files once the load has ended."""
        if self.proc.poll() is not None:
            shutil.rmtree(temp_dir(self.log.parent), ignore_errors=True)


def temp_dir(out: Path) -> Path:
    """Where the load in OUT keeps its temporary files."""
    return out / "load-tmp"
