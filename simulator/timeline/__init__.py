"""The timeline: the one schedule of events in simulated time that every executor replays.

- `event`: the Event and the LinkId it may name;
- `kinds`: the registry of kinds, their parameters and defaults;
- `jsonl`: the JSON Lines form, checked against the registry when read;
- `clock`: the replay clock (`--speed`, `--start-at`).

The timeline imports nothing of the model: the model emits its events, and assembles a
city's timeline from them (`simulator.model.timeline`).
"""

from simulator.timeline.clock import ReplayClock, resume
from simulator.timeline.event import Event, LinkId, sort_events
from simulator.timeline.jsonl import Names, TimelineError, parse_event, read_jsonl, write_jsonl
from simulator.timeline.kinds import KINDS, Kind, kind

__all__ = [
    "KINDS",
    "Event",
    "Kind",
    "LinkId",
    "Names",
    "ReplayClock",
    "TimelineError",
    "kind",
    "parse_event",
    "read_jsonl",
    "resume",
    "sort_events",
    "write_jsonl",
]
