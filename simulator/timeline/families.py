"""A timeline's events by who replays them: the faults (the world's and the streams': what
`camsim serve` replays) and the operators' actions (what `camsim loadtest` replays). The lab,
its step load and the load read a timeline's actions through here, a floor below them all."""

from __future__ import annotations

from collections.abc import Iterable

from simulator.timeline.event import Event
from simulator.timeline.kinds import family

#: The kinds of the operators' actions.
ACTIONS = frozenset(family("action"))


def actions_of(events: Iterable[Event], start_at: float = 0.0) -> list[Event]:
    """The action events due at or after `start_at`, in time order."""
    return sorted((e for e in events if e.kind in ACTIONS and e.t >= start_at), key=Event.sort_key)


def split(events: Iterable[Event]) -> tuple[list[Event], list[Event]]:
    """(faults, actions): every event that is not an action, then the actions, each in the
    order given."""
    faults: list[Event] = []
    actions: list[Event] = []
    for e in events:
        (actions if e.kind in ACTIONS else faults).append(e)
    return faults, actions


def on_cameras(events: Iterable[Event], cameras: Iterable[str]) -> list[Event]:
    """The events on these cameras (by id)."""
    ids = set(cameras)
    return [e for e in events if e.camera in ids]
