"""What the lab reads every interval, into the ledger: what the generator sent and the faults
it applied, the load's actions, the harness's and the target's processes, and the target's
own capture rate per camera where its API tells it (ZoneMinder's CaptureFPS)."""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import dataclass, field
from typing import Any

from simulator.lab import processes
from simulator.lab.generator import Generator
from simulator.lab.ledger import Ledger
from simulator.lab.load import Load

#: Processes whose CPU and memory the lab records when the target runs on this host.
TARGET_PROCESSES = {
    "zoneminder": ("zmc", "zma", "apache2", "mariadbd", "zmdc", "zmwatch"),
    "motion": ("motion",),
}
#: Processes that come and go, each group one series: ZoneMinder's `zms` CGI serves one live
#: view or playback (`nph-zms` is its name when Apache runs it).
TRANSIENT_PROCESSES = {"zoneminder": {"zms": ("zms", "nph-zms")}}


@dataclass
class Transient:
    """A group of processes that come and go, as one running total of CPU: what each used
    since it was last seen (all of it when it is new), so that one ending does not take its
    CPU away; what one used after its last sample is not seen."""

    names: tuple[str, ...]
    seen: dict[int, float] = field(default_factory=dict)  # pid → CPU s at the last sample
    cpu_s: float = 0.0

    def sample(self) -> processes.Usage:
        now = processes.named(self.names)
        self.cpu_s += sum(max(0.0, u.cpu_s - self.seen.get(p, 0.0)) for p, u in now.items())
        self.seen = {p: u.cpu_s for p, u in now.items()}
        return processes.Usage(self.cpu_s, sum(u.rss_mb for u in now.values()), len(now))


@dataclass
class Sampler:
    """Reads one interval at a time; `cameras` maps the target's ids to the run's cameras."""

    ledger: Ledger
    gen: Generator
    target: Any
    kind: str
    cameras: dict[str, str] = field(default_factory=dict)
    load: Load | None = None
    transient: dict[str, Transient] = field(default_factory=dict)

    def __post_init__(self) -> None:
        groups = TRANSIENT_PROCESSES.get(self.kind, {})
        self.transient = {name: Transient(names) for name, names in groups.items()}

    def sample(self) -> int:
        """Read one interval into the ledger; returns the faults applied in it."""
        sent = self.gen.interval()
        applied = self.gen.applied()
        late_p99, _ = self.gen.lateness()
        now = time.time()
        health = []
        serve = processes.usage(self.gen.pid)
        if serve is not None:
            health.append((now, "camsim serve", serve.cpu_s, serve.rss_mb, late_p99,
                           sum(s.late_skips for s in sent)))  # fmt: skip
        mine = [("camsim lab", processes.usage(os.getpid()))]
        if self.load is not None:
            mine.append(("camsim loadtest", processes.tree(self.load.proc.pid)))
        health += [(now, n, u.cpu_s, u.rss_mb, None, None) for n, u in mine if u is not None]
        target = processes.by_name(TARGET_PROCESSES.get(self.kind, ()))
        if target:  # the target runs on this host: its transient processes too, even none
            target |= {name: t.sample() for name, t in self.transient.items()}
        for name, u in target.items():
            health.append((now, name, u.cpu_s, u.rss_mb, None, None))
        faults = [
            (a["seq"], a["kind"], a.get("camera"), a.get("district"), a.get("link"), a["wall"],
             a.get("until"), a["t"], json.dumps(a.get("params", {}), sort_keys=True), "timeline")
            for a in applied
        ]  # fmt: skip
        actions = self.load.actions() if self.load is not None else []
        self.ledger.record(sent=sent, faults=faults, actions=actions, health=health,
                           capture=self._capture(now))  # fmt: skip
        return len(faults)

    def _capture(self, now: float) -> list[tuple[float, str, float]]:
        if self.kind == "motion":  # it cannot tell, and its list costs 3 calls a camera
            return []
        with contextlib.suppress(Exception):  # a busy target's silence is judged elsewhere
            return [(now, self.cameras[c.target_id], c.capture_fps)
                    for c in self.target.list_cameras()
                    if c.target_id in self.cameras and c.capture_fps is not None]  # fmt: skip
        return []
