"""A city's timeline, as the model emits it: the discrete world, the stream faults and the
operators' actions, in one time order (what a timeline is, its kinds and its file form are
in `simulator.timeline`, below the model).

The world events are the very ones the sizing model sizes (`simulator.model.sizing`), drawn
from the same children of the seed tree.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from simulator.model.city import City
from simulator.model.stream_faults import stream_fault_events
from simulator.model.world import world_events
from simulator.timeline.event import Event, sort_events


def build_timeline(
    city: City,
    cameras: Sequence[int] | None = None,
    *,
    faults: bool = True,
    actions: bool = False,
) -> list[Event]:
    """The timeline executors replay: the discrete world, the stream faults (`faults`) and the
    operators' actions (`actions`); of `cameras` only (and what reaches them), if given."""
    sys.audit("camsim.build", "timeline")  # a lab test counts the builds of a run
    events = world_events(city, cameras)
    if faults:
        events += stream_fault_events(city, cameras)
    if actions:
        from simulator.model.actions import action_events

        events += action_events(city, cameras)
    return sort_events(events)
