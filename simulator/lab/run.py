"""A lab run: streams for the chosen cameras, registered in the target, the timeline's faults
replayed, the ledger kept interval by interval, then the target's recordings collected and
judged. The load (operators' actions) runs beside it unless `load` is off."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from simulator.lab.attach import (
    Attached,
    open_target,
    register,
    remove_cameras,
    reopen,
    start_motion,
)
from simulator.lab.generator import Generator
from simulator.lab.ledger import Ledger, LedgerError
from simulator.lab.load import Load
from simulator.lab.sampler import Sampler
from simulator.lab.verdict import Slos, Verdict
from simulator.limits import clip, shown
from simulator.model.city import City

LOAD_LEAD_S = 15.0  # the load logs in and checks the cameras before its replay starts
LOAD_GRACE_S = 120.0  # the load's own grace for actions in flight, and its summary


@dataclass
class LabOptions:
    """What `camsim lab` was asked to do."""

    scenario: str
    target: str
    host: str
    out: Path
    overrides: tuple[str, ...] = ()
    seed: int | None = None
    days: float | None = None
    user: str | None = None
    password: str | None = None
    cameras: str | None = None
    duration_s: float = 600.0
    speed: float = 1.0
    start_at: float = 0.0
    timeline: str | None = None
    mapping: str | None = None  # the generic REST target's mapping
    keep: bool = False
    load: bool = True  # the operators' actions, when the scenario or timeline has some
    interval_s: float = 10.0
    warmup_s: float = 20.0  # after registering, before the timeline starts
    settle_s: float = 15.0  # after the cameras stop, before the recordings are read
    slos: Slos = field(default_factory=Slos)


@dataclass
class Progress:
    """What the progress display shows after each interval."""

    elapsed_s: float
    duration_s: float
    streaming: int
    cameras: int
    faults: int
    actions: int = 0
    failures: int = 0
    load: str = ""  # "" (no load), "running", "ended (exit N)"


def run_lab(
    city: City, opts: LabOptions, on_progress: Callable[[Progress], None] | None = None
) -> Verdict:
    """Run the lab; returns the verdict (also written to opts.out). Ctrl-C ends the run
    early and still judges what ran."""
    from simulator.lab.collect import collect
    from simulator.report.verdict import write_verdict

    opts.out.mkdir(parents=True, exist_ok=True)
    ledger = Ledger(opts.out / "ledger.sqlite")
    ledger.set(**facts(opts))
    motion = opts.target == "motion"  # the lab runs it, with the cameras in its configuration
    # bad credentials end the run before any stream starts
    target = None if motion else open_target(opts.target, opts.host, opts.user, opts.password,
                                             opts.mapping)  # fmt: skip
    gen = Generator.start(serve_args(city, opts), opts.out / "serve.log")
    ledger.set(generator_pid=gen.pid, generator=gen.ready)
    attached: Attached | None = None
    load: Load | None = None
    try:
        cams = gen.cameras()
        attached = (start_motion(opts.host, cams, opts.out / "motion") if motion
                    else register(target, cams, opts.mapping))  # fmt: skip
        ledger.set(attached=attached.facts)
        for cam in cams:
            main = cam["streams"]["main"]
            ledger.camera(cam["id"], attached.ids[cam["id"]], main["url"], main["fps"],
                          main["width"], main["height"], time.time())  # fmt: skip
        target = attached.target
        time.sleep(opts.warmup_s)
        gen.interval()  # counters from here on
        if opts.load and has_actions(city, opts):
            load = Load.start(load_args(opts, attached.facts), opts.out)
        gen.start_replay()
        started = time.time()
        ledger.set(started=started)
        faults = 0
        names = {tid: cam for cam, tid in attached.ids.items()}
        sampler = Sampler(ledger, gen, target, opts.target, names, load)
        try:
            while (elapsed := time.time() - started) < opts.duration_s:
                time.sleep(min(opts.interval_s, max(0.0, opts.duration_s - elapsed)))
                faults += sampler.sample()
                if on_progress is not None:
                    on_progress(_progress(gen, load, started, opts.duration_s, faults))
        except KeyboardInterrupt:
            ledger.set(interrupted=True)
            if load is not None:
                load.stop()
        ended = time.time()
        ledger.set(ended=ended)
        if load is not None:
            ledger.set(load=load.finish(LOAD_GRACE_S))
        sampler.sample()
        # the cameras go away, so the target closes its recordings and their frame counts
        # are final when it is asked
        gen.stop()
        time.sleep(opts.settle_s)
        if motion:  # the movie being written gets its index when motion ends
            attached.close(opts.keep)
        verdict = collect(ledger, target, city, (started, ended), opts.slos, gen.missed)
        write_verdict(verdict, opts.out)
        return verdict
    finally:
        if load is not None:
            load.stop()
        gen.stop()
        if attached is not None:
            attached.close(opts.keep)
        ledger.close()


def facts(opts: LabOptions) -> dict[str, Any]:
    """What the ledger keeps of the options, for `camsim verdict DIR` to judge the run."""
    return dict(scenario=opts.scenario, overrides=list(opts.overrides), seed=opts.seed,
                days=opts.days, target=opts.target, host=opts.host, user=opts.user,
                cameras=opts.cameras, speed=opts.speed, start_at=opts.start_at,
                keep=opts.keep, slos=opts.slos.__dict__)  # fmt: skip


def _progress(gen: Generator, load: Load | None, started: float, duration_s: float,
              faults: int) -> Progress:  # fmt: skip
    cams = gen.last_cameras  # as the interval just sampled read them
    streaming = sum(1 for c in cams if c["streams"]["main"]["clients"] > 0)
    p = Progress(time.time() - started, duration_s, streaming, len(cams), faults)
    if load is not None:
        p.actions, p.failures = load.done, load.failed
        code = load.proc.poll()
        p.load = "running" if code is None else f"ended (exit {code})"
    return p


def has_actions(city: City, opts: LabOptions) -> bool:
    """Whether there is a load to run: the timeline's actions, or the scenario's operators."""
    if opts.timeline:
        from simulator.timeline.jsonl import read_jsonl
        from simulator.timeline.kinds import KINDS

        return any(KINDS[e.kind].family == "action" for e in read_jsonl(opts.timeline))
    return city.scenario.operators is not None


def load_args(opts: LabOptions, facts: dict[str, Any]) -> list[str]:
    args = [opts.scenario, "--target", opts.target, "--host", opts.host,
            "--speed", str(opts.speed), "--start-at", str(opts.start_at),
            "--run-time", f"{int(opts.duration_s + LOAD_LEAD_S)}s"]  # fmt: skip
    for o in opts.overrides:
        args += ["--set", o]
    for flag, value in (("--seed", opts.seed), ("--days", opts.days), ("--user", opts.user),
                        ("--cameras", opts.cameras), ("--timeline", opts.timeline),
                        ("--mapping", opts.mapping),
                        ("--stream-url", facts.get("stream"))):  # fmt: skip
        if value is not None:
            args += [flag, str(value)]
    return args


class VerdictError(ValueError):
    """A mistake in what the user asked `camsim verdict` (exit 2): --host, --scenario."""


class NoAnswer(RuntimeError):
    """The target did not answer when asked what it recorded (could not judge)."""


class RunFacts(BaseModel):
    """What `verdict_of` reads of the ledger's run facts, checked: the ledger is data."""

    model_config = ConfigDict(extra="ignore", strict=True, allow_inf_nan=False)

    scenario: str
    overrides: list[str] = []
    seed: int | None = None
    days: float | None = None
    target: Literal["zoneminder", "motion", "rest"]
    host: str
    user: str | None = None
    keep: bool = False
    slos: dict[str, float] = {}
    started: float
    ended: float | None = None
    attached: dict[str, Any] = {}  # what reopen() needs: the mapping's path (rest)

    @field_validator("attached")
    @classmethod
    def _mapping_is_a_path(cls, v: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(v.get("mapping"), str | None):
            raise ValueError("mapping: expected a path")
        return v


def run_facts(ledger: Ledger) -> RunFacts:
    """The ledger's run facts, checked (LedgerError naming the fact)."""
    raw = ledger.facts()
    if "started" not in raw:
        raise LedgerError(f"{ledger.path}: the run did not get far enough to judge (no started)")
    try:
        f = RunFacts.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        loc = clip(".".join(str(p) for p in err["loc"]))
        msg = clip(err["msg"].removeprefix("Value error, "), 200)
        raise LedgerError(f"{ledger.path}: run facts: {loc}: {msg}") from None
    unknown = set(f.slos) - set(Slos.__dataclass_fields__)
    if unknown:
        raise LedgerError(f"{ledger.path}: run facts: slos: unknown {shown(sorted(unknown)[0])}")
    return f


def verdict_of(out: Path, password: str | None = None, host: str | None = None,
               scenario: str | None = None) -> Verdict:  # fmt: skip
    """Judge a run from its ledger alone (after a crash or a kill): the window ends at the
    last interval written; the cameras are removed from the target unless it was --keep.

    The ledger is data, not configuration: it is opened read-only and checked
    (`Ledger.read`); the target is asked what it recorded, and cleaned, only at `host`, the
    user's, which must be the host the ledger names (motion needs none: its files are read
    in OUT/motion, whatever the ledger says); the scenario is `scenario` (the user's) or the
    ledger's, read with the same bounded reader. Raises LedgerError (could not judge),
    VerdictError (the user's input), NoAnswer (the target did not answer)."""
    from loadtests.targets import TargetError
    from simulator.lab.collect import collect
    from simulator.report.verdict import write_verdict

    ledger = Ledger.read(out / "ledger.sqlite")
    try:
        f = run_facts(ledger)
        _check_place(f, out, host, ledger.path)
        city = _city(f, scenario, ledger.path)
        last = ledger.rows("SELECT max(t1) FROM sent")[0][0]
        window = (f.started, f.ended or last)
        if window[1] is None:
            raise LedgerError(f"{ledger.path}: the run did not get far enough to judge (no "
                              "interval written)")  # fmt: skip
        where = host or f.host
        try:
            target = reopen(f.target, where, f.user, password, f.attached)
        except ValueError as exc:  # the mapping the ledger names
            raise LedgerError(f"{ledger.path}: {clip(str(exc), 300)}") from None
        except (OSError, TargetError) as exc:
            raise NoAnswer(f"the target at {where}: {clip(str(exc).splitlines()[0], 300)}"
                           ) from None  # fmt: skip
        try:
            verdict = collect(ledger, target, city, window, Slos(**f.slos), 0)
        except (OSError, TargetError) as exc:
            raise NoAnswer(f"the target at {where}: {clip(str(exc).splitlines()[0], 300)}"
                           ) from None  # fmt: skip
        write_verdict(verdict, out)
        if not f.keep and f.target != "motion":
            remove_cameras(target, [t for (t,) in ledger.rows("SELECT target_id FROM cameras")])
        return verdict
    finally:
        ledger.close()


def _check_place(f: RunFacts, out: Path, host: str | None, path: Path) -> None:
    """The user's --host is the ledger's; motion's files are read in OUT/motion only."""
    if f.target == "motion":  # its files are this run's own, wherever the ledger says
        f.attached = {"stream": f.attached.get("stream") or "", "dir": str(out / "motion")}
        return
    if host is None:
        raise VerdictError(f"{out}: pass --host {clip(f.host)} to ask the target what it "
                           "recorded and remove the run's cameras (the ledger names it; a "
                           "ledger is not trusted to name a host)")  # fmt: skip
    if host.rstrip("/") != f.host.rstrip("/"):
        raise VerdictError(f"--host {clip(host)}: not the ledger's {clip(f.host)} (the run's "
                           "target; a verdict asks only the host that was tested)")  # fmt: skip


def _city(f: RunFacts, scenario: str | None, path: Path) -> City:
    """The run's city: from the user's --scenario, or the ledger's, bounded either way."""
    from simulator.scenario import ScenarioError, load_scenario

    extra = [*f.overrides]
    extra += [f"simulation.seed={f.seed}"] if f.seed is not None else []
    extra += [f"simulation.days={f.days}"] if f.days is not None else []
    try:
        return City.of(load_scenario(scenario or f.scenario, tuple(extra)))
    except ScenarioError as exc:
        if scenario is not None:
            raise VerdictError(str(exc)) from None
        raise LedgerError(f"{path}: the run's scenario: {exc}") from None
    except ValueError as exc:  # a city the ledger's facts cannot make
        raise LedgerError(f"{path}: {clip(str(exc), 300)}") from None


def serve_args(city: City, opts: LabOptions) -> list[str]:
    args = [opts.scenario, "--rtsp-port", "0", "--api-port", "0", "--wait-start",
            "--speed", str(opts.speed), "--start-at", str(opts.start_at)]  # fmt: skip
    for o in opts.overrides:
        args += ["--set", o]
    if opts.seed is not None:
        args += ["--seed", str(opts.seed)]
    if opts.days is not None:
        args += ["--days", str(opts.days)]
    if opts.cameras:
        args += ["--cameras", opts.cameras]
    if opts.timeline:
        args += ["--timeline", opts.timeline]
    return args
