"""The load test's schedule: the operators' actions of a timeline, sharded across processes,
on the dispatcher's clock.

The actions come from the model (`build_timeline(..., actions=True)`) or from a written
timeline; every process takes its shard (operators round-robin, remote viewers by camera),
so that the processes together replay each action exactly once.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from loadtests.users.dispatcher import Due
from simulator.timeline.clock import ReplayClock
from simulator.timeline.event import Event
from simulator.timeline.kinds import family

ACTIONS = frozenset(family("action"))


def actions_of(events: Iterable[Event], start_at: float = 0.0) -> list[Event]:
    """The action events due at or after `start_at`, in time order."""
    return sorted((e for e in events if e.kind in ACTIONS and e.t >= start_at), key=Event.sort_key)


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
    """Where the schedule comes from: a scenario (with overrides), or a written timeline
    checked against it; of some cameras only."""

    scenario: str
    timeline: str | None = None
    cameras: str | None = None  # first N, or comma-separated ids (as `camsim serve`)
    overrides: tuple[str, ...] = ()

    def city(self):  # noqa: ANN201 - simulator.model.city.City
        from simulator.model.city import City
        from simulator.scenario import load_scenario

        return City.of(load_scenario(self.scenario, self.overrides))

    def events(self, city=None) -> list[Event]:  # noqa: ANN001
        """Every action of the source (raises ValueError, ScenarioError or TimelineError)."""
        from simulator.model.timeline import build_timeline
        from simulator.timeline.jsonl import read_jsonl

        city = city or self.city()
        chosen = city.select(self.cameras) if self.cameras else None
        if self.timeline:
            events = actions_of(read_jsonl(self.timeline, city.names))
            if chosen is not None:
                ids = {city.table.ids[i] for i in chosen}
                events = [e for e in events if e.camera in ids]
            return events
        try:
            return actions_of(build_timeline(city, chosen, faults=False, actions=True))
        except ImportError:
            raise ValueError(
                "this camsim has no operators' actions model: pass a timeline written with "
                "`camsim timeline --actions`"
            ) from None
