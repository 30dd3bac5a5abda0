"""A lab run's inputs, built once by the lab and handed to its children as files in OUT/run:
the resolved scenario, the served cameras (the City's handover: each camera's streams and
their seeds, the names the timeline may use; `simulator/model/handover.py`), the faults
`camsim serve` replays and the actions `camsim loadtest` replays. The children read these
instead of rebuilding the City and its timeline: given OUT/run, they build neither.

Two timeline files, not one: the generator counts every event it replays as applied (each
one a row of the ledger's faults, and one of the last 200 its API keeps for the lab to read),
so it must get no action; and the load's processes each read their whole file, so they get
no fault."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml

from simulator.limits import LimitError, read_bounded
from simulator.model.city import City
from simulator.model.handover import HANDOVER_BYTES, Handover, HandoverError
from simulator.timeline.event import Event
from simulator.timeline.families import actions_of, on_cameras, split
from simulator.timeline.jsonl import read_jsonl


@dataclass(frozen=True)
class RunInputs:
    """The run's inputs in `dir` (OUT/run), and the actions the load replays."""

    dir: Path
    actions: list[Event]  # the operators' actions, in time order (a capacity search: all cameras')

    @property
    def scenario(self) -> Path:
        """The scenario with the run's --set, --seed and --days applied (YAML)."""
        return self.dir / "scenario.yaml"

    @property
    def cameras(self) -> Path:
        """The served cameras, handed over (JSON, a `Handover`): what the children build
        their streams and check names from."""
        return self.dir / "cameras.json"

    @property
    def faults(self) -> Path:
        """The world's events and the stream faults: what camsim serve replays."""
        return self.dir / "faults.jsonl"

    @property
    def schedule(self) -> Path:
        """The operators' actions: what camsim loadtest replays."""
        return self.dir / "schedule.jsonl"

    @classmethod
    def write(cls, city: City, out: Path, served: list[int], timeline: str | None = None,
              load: bool = True, every_camera: bool = False) -> RunInputs:  # fmt: skip
        """Build the run's timeline once (the scenario's model for the `served` cameras, or
        the `timeline` file read and checked against the city) and write the inputs to
        OUT/run. The actions are the served cameras' (a capacity search's step load, with
        `every_camera`: all of them); none unless `load`. Raises TimelineError."""
        faults, actions = _timeline(city, served, timeline, load, every_camera)
        d = out / "run"
        d.mkdir(parents=True, exist_ok=True)
        inputs = cls(d, actions)
        data = city.scenario.model_dump(mode="json")
        inputs.scenario.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
        inputs.cameras.write_text(Handover.of(city, served).to_json())
        inputs.faults.write_text(_lines(faults))
        inputs.schedule.write_text(_lines(actions))
        return inputs

    @classmethod
    def at(cls, dir: Path) -> RunInputs:
        """The inputs a lab wrote in `dir`, as a child finds them (the actions unread)."""
        return cls(dir, [])

    def handover(self) -> Handover:
        """The served cameras, read and checked (HandoverError naming the file and field)."""
        return read_handover(self.cameras)


def read_handover(path: Path | str) -> Handover:
    """The handover in file `path`, checked (HandoverError naming the file and field)."""
    try:
        return Handover.parse(read_bounded(path, HANDOVER_BYTES, "a handover"), str(path))
    except LimitError as exc:
        raise HandoverError(f"{path}: {exc}") from None
    except OSError as exc:
        raise HandoverError(f"{path}: cannot read the cameras handed over: "
                            f"{exc.strerror or exc}") from None  # fmt: skip


def _lines(events: Iterable[Event]) -> str:
    """JSON Lines with each event's time whole: the file form rounds it to the millisecond,
    and a child replays the very times the lab's model drew."""
    out = []
    for e in events:
        data = json.loads(e.to_json())
        data["t"] = e.t
        out.append(json.dumps(data, sort_keys=True, separators=(",", ":")) + "\n")
    return "".join(out)


def _timeline(city: City, served: list[int], timeline: str | None, load: bool,
              every_camera: bool) -> tuple[list[Event], list[Event]]:  # fmt: skip
    """(faults, actions) of the run, the timeline built (or read) once."""
    if timeline:  # the generator replays all of it; the load the served cameras' actions
        faults, actions = split(read_jsonl(timeline, city.names))
        if not every_camera:
            actions = on_cameras(actions, (city.table.ids[i] for i in served))
        return faults, actions_of(actions) if load else []
    from simulator.model.timeline import build_timeline

    # of the served cameras only (and what reaches them), unless they are all of them
    subset = served if len(served) < len(city.table) else None
    load = load and city.scenario.operators is not None
    if load and every_camera and subset is not None:  # the step load: every camera's
        from simulator.model.actions import action_events

        return build_timeline(city, subset), action_events(city)
    faults, actions = split(build_timeline(city, subset, actions=load))
    return faults, actions
