"""Capacity search: cameras added to the target in steps, each step held and judged like a
lab run (unexplained recording gaps, frames recorded, the target's capture rate, API p99),
until the target first fails. The largest count it sustained, what broke first, and what
each step exercised of the API (its load: stepload.py)."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from simulator.lab.attach import open_target, register, remove_cameras
from simulator.lab.generator import Generator
from simulator.lab.ledger import Ledger
from simulator.lab.load import Load
from simulator.lab.run import (
    LOAD_GRACE_S,
    LabOptions,
    facts,
    has_actions,
    load_args,
    serve_args,
)
from simulator.lab.sampler import Sampler
from simulator.lab.stepload import StepLoad, done_by_kind
from simulator.model.city import City


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
        target, ended the search; the harness fell behind at the failing step; a step
        counted as held ran the operators' load without any action reaching the API."""
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
    city: City, opts: LabOptions, step: int, hold_s: float,
    on_step: Callable[[Step], None] | None = None,
    on_interval: Callable[[int, float], None] | None = None,
) -> Capacity:  # fmt: skip
    """Serve the candidate cameras, add `step` more to the target at a time, hold each step
    for `hold_s` with the operators' whole load moved onto the cameras in it (stepload.py),
    and stop at the first step that fails. Writes capacity.json to opts.out; Ctrl-C ends the
    search at the step held. Raises ValueError when the actions cannot be drawn."""
    from simulator.lab.collect import collect

    plan = None
    if opts.load and has_actions(city, opts):
        plan = StepLoad.of(city, opts.scenario, opts.timeline)
    opts.out.mkdir(parents=True, exist_ok=True)
    ledger = Ledger(opts.out / "ledger.sqlite")
    ledger.set(**facts(opts), step=step, hold_s=hold_s, find_capacity=True)
    target = open_target(opts.target, opts.host, opts.user, opts.password, opts.mapping)
    gen = Generator.start(serve_args(city, opts), opts.out / "serve.log")
    cams = gen.cameras()
    result = Capacity([], len(cams), step, hold_s)
    ids: dict[str, str] = {}
    load: Load | None = None
    sampler = Sampler(ledger, gen, target, opts.target)  # one, for the processes' totals
    try:
        for k in range(0, len(cams), step):
            added = register(target, cams[k : k + step], opts.mapping).ids
            ids |= added
            for cam in cams[k : k + step]:
                main = cam["streams"]["main"]
                ledger.camera(cam["id"], added[cam["id"]], main["url"], main["fps"],
                              main["width"], main["height"], time.time())  # fmt: skip
            time.sleep(opts.warmup_s)  # the new cameras connect and start recording
            if k == 0:
                gen.interval()
                gen.start_replay()
                replayed = time.time()
                ledger.set(started=replayed)
            due: list = []
            if plan is not None:
                # the operators' actions over the hold from where the timeline is now, on
                # this step's cameras (the load's run time, 15 s longer, lets it log in first)
                at = opts.start_at + (time.time() - replayed) * opts.speed
                due = plan.schedule(at, at + hold_s * opts.speed, list(ids))
                here = opts.out / f"step-{len(ids)}"
                here.mkdir(exist_ok=True)
                schedule = StepLoad.write(due, here / "schedule.jsonl")
                held = LabOptions(**{**opts.__dict__, "cameras": ",".join(ids),
                                     "duration_s": hold_s, "start_at": at,
                                     "timeline": str(schedule)})  # fmt: skip
                if due:  # (camsim loadtest refuses an empty schedule)
                    load = Load.start(load_args(held, {}), here)
            sampler.cameras, sampler.load = {t: c for c, t in ids.items()}, load
            gen.interval()  # this step's counters from here on
            start = time.time()
            interrupted = False
            try:
                while (now := time.time()) - start < hold_s:
                    time.sleep(min(opts.interval_s, hold_s - (now - start)))
                    sampler.sample()
                    if on_interval is not None:
                        on_interval(len(ids), time.time() - start)
            except KeyboardInterrupt:
                interrupted = True
            end = time.time()
            if load is not None:
                load.finish(0 if interrupted else LOAD_GRACE_S)
                sampler.sample()
                load = None
            v = collect(ledger, target, city, (start, end), opts.slos, gen.missed,
                        only=set(ids), actions_from=start - opts.interval_s)  # fmt: skip
            failed = [f"{c.name}: {c.value} (limit {c.threshold})" for c in v.checks
                      if not c.passed]  # fmt: skip
            done, errors = done_by_kind(ledger, start - opts.interval_s)
            s = Step(len(ids), start, end, not failed, failed, v.harness["fell_behind"],
                     plan is not None, len(due), done, errors)  # fmt: skip
            result.steps.append(s)
            _write(result, opts)
            if on_step is not None:
                on_step(s)
            if failed or interrupted:
                break
        ledger.set(ended=time.time())
        return result
    finally:
        if load is not None:
            load.stop()
        gen.stop()
        if not opts.keep:
            remove_cameras(target, ids.values())
        with contextlib.suppress(Exception):
            _write(result, opts)
        ledger.close()


def _write(result: Capacity, opts: LabOptions) -> None:
    tmp = opts.out / "capacity.json.tmp"
    tmp.write_text(json.dumps(result.to_dict(), indent=2))
    tmp.replace(opts.out / "capacity.json")
