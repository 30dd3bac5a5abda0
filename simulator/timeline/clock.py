"""The replay clock: simulated time on the wall clock, shared by every executor.

Simulated second `t` happens at `origin + (t - start_at) / speed` on the executor's own
monotonic clock (asyncio's loop time for the streams, gevent's for the load). The clock only
converts; each executor sleeps in its own way.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from simulator.timeline.event import Event
from simulator.timeline.kinds import KINDS


@dataclass(frozen=True)
class ReplayClock:
    """Maps simulated seconds to an executor's wall clock: `--speed` and `--start-at`."""

    speed: float = 1.0  # simulated seconds per wall-clock second
    start_at: float = 0.0  # the simulated second the replay starts at
    origin: float = 0.0  # the executor's clock reading when the replay started

    def __post_init__(self) -> None:
        if not self.speed > 0:
            raise ValueError(f"speed must be > 0, got {self.speed!r}")
        if self.start_at < 0:
            raise ValueError(f"start-at must be ≥ 0, got {self.start_at!r}")

    def started(self, origin: float) -> ReplayClock:
        """This clock, started at `origin` on the executor's clock."""
        return replace(self, origin=origin)

    def wall_at(self, t: float) -> float:
        """When simulated second `t` happens on the executor's clock."""
        return self.origin + (t - self.start_at) / self.speed

    def sim_at(self, wall: float) -> float:
        """The simulated second at the executor's clock reading `wall`."""
        return self.start_at + (wall - self.origin) * self.speed

    def wall_seconds(self, sim_seconds: float) -> float:
        """A simulated duration in wall-clock seconds."""
        return sim_seconds / self.speed


def resume(events: Iterable[Event], start_at: float) -> tuple[list[Event], list[Event]]:
    """Split a timeline at `start_at`: the earlier events still in effect (timed ones with
    what is left of their duration; state changes, all of them, in order) and the rest."""
    now, later = [], []
    for e in sorted(events, key=Event.sort_key):
        if e.t >= start_at:
            later.append(e)
            continue
        k = KINDS[e.kind]
        if k.family == "action":
            continue  # an action that was due before the replay began is not replayed
        if not k.timed:
            now.append(e)
            continue
        left = e.t + float(e.params.get("duration_s", 0.0)) - start_at
        if left > 0:
            now.append(e.with_params(duration_s=left))
    return now, later
