"""A capacity step's operators' load, and what of it ran.

Filtered to the cameras a step has, the scenario's actions rarely reach them: Strasbourg's
tours pass the same five of its 450 cameras once every nine minutes, so a step held for a
minute would run none. Each step instead replays every action the operators do over its
stretch of the timeline (the run's, as the lab built or read it once: `inputs.py`), moved
onto the cameras the step has on the target (city camera i → the step's camera i mod n): the
operators' whole load at the scenario's rates, the same at every step, on however many
cameras the step holds.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from simulator.lab.ledger import Ledger
from simulator.model.city import City
from simulator.timeline.event import Event
from simulator.timeline.families import actions_of


@dataclass(frozen=True)
class StepLoad:
    """Every operators' action of the run's source (all cameras), in time order."""

    actions: list[Event]
    index: dict[str, int]  # camera id → its index in the city

    @classmethod
    def of(cls, city: City, actions: list[Event]) -> StepLoad:
        """The run's actions (of every camera) on the city's cameras."""
        return cls(actions_of(actions), dict(city.camera_index))

    def schedule(self, since: float, until: float, cameras: list[str]) -> list[Event]:
        """The actions due in [since, until) (timeline seconds), each on a step's camera."""
        n = len(cameras)
        return [replace(e, camera=cameras[self.index[e.camera] % n])
                for e in self.actions
                if since <= e.t < until and e.camera in self.index]  # fmt: skip

    @staticmethod
    def write(events: list[Event], path: Path) -> Path:
        """The schedule as a timeline (JSON Lines) `camsim loadtest --timeline` replays."""
        path.write_text("".join(e.to_json() + "\n" for e in events))
        return path


def done_by_kind(ledger: Ledger, since: float) -> tuple[dict[str, int], int]:
    """The actions done (succeeded or failed) that started from `since` on, per kind, and
    how many of them failed: what a step's API checks were computed on."""
    rows = ledger.rows("SELECT kind, count(*), sum(1 - ok) FROM actions WHERE start >= ? "
                       "GROUP BY kind ORDER BY kind", since)  # fmt: skip
    return {k: n for k, n, _ in rows}, sum(int(f or 0) for _, _, f in rows)
