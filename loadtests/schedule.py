"""The load test's schedule: the operators' actions of a timeline, sharded across processes,
on the dispatcher's clock.

The actions come from a written timeline (`camsim lab` writes its run's, OUT/run/schedule.jsonl,
and the cameras it handed over, OUT/run/cameras.json, whose names check it) or from the model
(`build_timeline(..., actions=True)`); every process takes its shard
(operators round-robin, remote viewers by camera), so that the processes together replay
each action exactly once.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from loadtests.users.dispatcher import Due
from simulator.model.handover import Handover
from simulator.scenario import Scenario
from simulator.timeline.clock import ReplayClock
from simulator.timeline.event import Event
from simulator.timeline.families import ACTIONS, actions_of, on_cameras

__all__ = ["ACTIONS", "Source", "actions_of", "dues", "end_of", "shard", "shard_of"]


def shard_of(event: Event, shards: int) -> int:
    """The shard (0..shards-1) that replays an action: an operator's actions stay together
    (operator k → k mod shards); remote viewers' (operator -1) go by camera."""
    op = int(event.params.get("operator", -1))
    if op >= 0:
        return op % shards
    return zlib.crc32((event.camera or "").encode()) % shards


def shard(events: Sequence[Event], index: int, shards: int) -> list[Event]:
    """The actions of one shard."""
    if not 0 <= index < shards:
        raise ValueError(f"shard {index} of {shards}: expected 0 ≤ index < shards")
    return [e for e in events if shard_of(e, shards) == index]


def dues(events: Iterable[Event], clock: ReplayClock, prefix: str = "") -> Iterator[Due]:
    """The actions on the dispatcher's clock (a started ReplayClock), named prefix + kind."""
    for e in events:
        yield Due(clock.wall_at(e.t), prefix + e.kind, e)


def end_of(events: Sequence[Event]) -> float:
    """The simulated second at which the last action has ended."""
    return max((e.t + float(e.params.get("duration_s", 0.0)) for e in events), default=0.0)


@dataclass(frozen=True)
class Source:
    """Where the schedule comes from: a written timeline, or a scenario's model (with
    overrides); of some cameras only. With a lab run's `handover` (its cameras and names),
    a timeline is checked and its cameras chosen without the scenario's City."""

    scenario: str
    timeline: str | None = None
    cameras: str | None = None  # first N, or comma-separated ids (as `camsim serve`)
    overrides: tuple[str, ...] = ()
    handover: Handover | None = None

    def needs_city(self, check: bool) -> bool:
        """Whether the actions need the scenario's City: to draw them, to check a timeline's
        names (`check`), or to find the first N cameras; not with a handover."""
        if self.handover is not None:
            return False
        return not self.timeline or check or (self.cameras or "").strip().isdigit()

    def events(self, scenario: Scenario | None = None, check: bool = True) -> list[Event]:
        """Every action of the source (raises ValueError, ScenarioError or TimelineError).
        A timeline is read as written unless `check`: its names against the scenario's City
        or the handover's (`camsim loadtest` checks before Locust starts, and its processes
        read it as is)."""
        from simulator.timeline.jsonl import read_jsonl

        if self.handover is not None and not self.timeline:
            raise ValueError(f"{self.scenario}: a lab run's cameras come with its schedule: "
                             "pass its timeline")  # fmt: skip
        if not self.needs_city(check):
            h = self.handover
            names = h.names.names() if h is not None and check else None
            events = actions_of(read_jsonl(self.timeline, names))  # type: ignore[arg-type]
            if self.cameras and h is not None:
                events = on_cameras(events, h.select(self.cameras).ids)
            elif self.cameras:
                events = on_cameras(events, (c.strip() for c in self.cameras.split(",")))
            return events
        from simulator.model.city import City
        from simulator.model.timeline import build_timeline
        from simulator.scenario import load_scenario

        city = City.of(scenario or load_scenario(self.scenario, self.overrides))
        chosen = city.select(self.cameras) if self.cameras else None
        if self.timeline:
            events = actions_of(read_jsonl(self.timeline, city.names))
            if chosen is not None:
                events = on_cameras(events, (city.table.ids[i] for i in chosen))
            return events
        try:
            return actions_of(build_timeline(city, chosen, faults=False, actions=True))
        except ImportError:
            raise ValueError(
                "this camsim has no operators' actions model: pass a timeline written with "
                "`camsim timeline --actions`"
            ) from None
