"""Capacity search: cameras added to the target in steps, each step held and judged like a
lab run (unexplained recording gaps, frames recorded, the target's capture rate, API p99),
until the target first fails. The largest count it sustained, what broke first, and what
each step exercised of the API (its load: stepload.py)."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from functools import partial
from typing import Any

from simulator.lab.inputs import RunInputs
from simulator.lab.session import LabOptions, Session
from simulator.lab.stepload import StepLoad, done_by_kind
from simulator.model.city import City
from simulator.timeline.event import Event


@dataclass
class Step:
    """One step: this many cameras held over [start, end], and how it was judged."""

    cameras: int
    start: float
    end: float
    passed: bool
    failed: list[str] = field(default_factory=list)  # the checks it failed, with the numbers
    harness_fell_behind: bool = False
    load: bool = False  # the operators' load was to run in this step
    scheduled: int = 0  # actions due in the step's stretch of the timeline
    actions: dict[str, int] = field(default_factory=dict)  # done in its window, by kind
    actions_failed: int = 0

    @property
    def api_exercised(self) -> bool:
        """Whether any action ran against the target's API in this step's window."""
        return sum(self.actions.values()) > 0

    @property
    def api(self) -> str:
        """What the step exercised of the API, in words."""
        if self.api_exercised:
            kinds = ", ".join(f"{k} {n}" for k, n in sorted(self.actions.items()))
            return (f"API exercised by {sum(self.actions.values())} actions ({kinds}), "
                    f"{self.actions_failed} failed")  # fmt: skip
        if not self.load:
            return "API not exercised (no operators' load)"
        if not self.scheduled:
            return "API not exercised (no action due in the step's window)"
        return f"API not exercised ({self.scheduled} actions due, none done)"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "api_exercised": self.api_exercised, "api": self.api}


@dataclass
class Capacity:
    """What capacity.json holds (schema camsim.capacity/1)."""

    steps: list[Step]
    ceiling: int  # cameras the search could add at most
    step: int
    hold_s: float

    @property
    def sustained(self) -> int:
        """The largest count held before the first failing step."""
        best = 0
        for s in self.steps:
            if not s.passed:
                break
            best = s.cameras
        return best

    @property
    def broke_first(self) -> list[str]:
        failing = next((s for s in self.steps if not s.passed), None)
        return [] if failing is None else failing.failed

    @property
    def inconclusive(self) -> list[str]:
        """Why the answer cannot be relied on (empty when it can): the ceiling, not the
        target, ended the search; the harness fell behind at the failing step or at a step
        counted as held; a step counted as held ran the operators' load without any action
        reaching the API."""
        failing = next((s for s in self.steps if not s.passed), None)
        why = []
        if not self.steps:
            why.append("no step was held")
        elif failing is None:
            why.append("the ceiling, not the target, ended the search")
        elif failing.harness_fell_behind:
            why.append(f"the generator fell behind at {failing.cameras} cameras")
        held = self.steps[: self.steps.index(failing)] if failing else self.steps
        idle = [str(s.cameras) for s in held if s.load and not s.api_exercised]
        if idle:
            why.append(f"API not exercised at {', '.join(idle)} cameras")
        # a step held while the generator fell behind may have held only because the harness
        # sent less than the cameras would have
        behind = [str(s.cameras) for s in held if s.harness_fell_behind]
        if behind:
            why.append(f"the generator fell behind at {', '.join(behind)} cameras, held")
        return why

    @property
    def conclusive(self) -> bool:
        return not self.inconclusive

    def to_dict(self) -> dict[str, Any]:
        return {"schema": "camsim.capacity/1", "sustained": self.sustained,
                "broke_first": self.broke_first, "conclusive": self.conclusive,
                "inconclusive": self.inconclusive, "ceiling": self.ceiling,
                "step": self.step, "hold_s": self.hold_s,
                "steps": [s.to_dict() for s in self.steps]}  # fmt: skip


def find_capacity(
    city: City, opts: LabOptions, inputs: RunInputs, step: int, hold_s: float,
    on_step: Callable[[Step], None] | None = None,
    on_interval: Callable[[int, float], None] | None = None,
) -> Capacity:  # fmt: skip
    """Serve the candidate cameras, add `step` more to the target at a time, hold each step
    for `hold_s` with the operators' whole load moved onto the cameras in it (stepload.py),
    and stop at the first step that fails (`inputs`: written with every camera's actions).
    Writes capacity.json to opts.out; Ctrl-C ends the search at the step held."""
    plan = StepLoad.of(city, inputs.actions) if opts.load and inputs.actions else None
    with Session(city, opts, inputs, step=step, hold_s=hold_s, find_capacity=True) as s:
        cams = s.cameras()
        result = Capacity([], len(cams), step, hold_s)
        try:
            for k in range(0, len(cams), step):
                s.attach(cams[k : k + step])
                if k == 0:
                    s.start_replay()
                due = [] if plan is None else _start_load(s, plan, hold_s)
                shown = None if on_interval is None else partial(on_interval, len(s.ids))
                start, end = s.hold(hold_s, shown, fresh=True)
                if s.load is not None:
                    s.end_load()
                held = _judged(s, (start, end), plan is not None, due)
                result.steps.append(held)
                _write(result, opts)
                if on_step is not None:
                    on_step(held)
                if not held.passed or s.interrupted:
                    break
            s.end()
            return result
        finally:
            with contextlib.suppress(Exception):
                _write(result, opts)


def _start_load(s: Session, plan: StepLoad, hold_s: float) -> list[Event]:
    """Start the operators' actions over the hold from where the timeline is now, on the
    step's cameras (the load's run time, 15 s longer, lets it log in first); those due."""
    opts = s.opts
    at = opts.start_at + (time.time() - s.started) * opts.speed
    due = plan.schedule(at, at + hold_s * opts.speed, list(s.ids))
    here = opts.out / f"step-{len(s.ids)}"
    here.mkdir(exist_ok=True)
    schedule = StepLoad.write(due, here / "schedule.jsonl")
    held = replace(opts, duration_s=hold_s, start_at=at)
    if due:  # (camsim loadtest refuses an empty schedule)
        s.start_load(held, here, schedule)
    return due


def _judged(s: Session, window: tuple[float, float], load: bool, due: list[Event]) -> Step:
    """The step held over the window, judged on its own cameras and actions."""
    since = window[0] - s.opts.interval_s
    v = s.judge(window, only=set(s.ids), actions_from=since)
    failed = [f"{c.name}: {c.value} (limit {c.threshold})" for c in v.checks if not c.passed]
    done, errors = done_by_kind(s.ledger, since)
    return Step(len(s.ids), *window, not failed, failed, v.harness["fell_behind"], load,
                len(due), done, errors)  # fmt: skip


def _write(result: Capacity, opts: LabOptions) -> None:
    tmp = opts.out / "capacity.json.tmp"
    tmp.write_text(json.dumps(result.to_dict(), indent=2))
    tmp.replace(opts.out / "capacity.json")
