"""A lab run: streams for the chosen cameras, registered in the target, the timeline's faults
replayed, the ledger kept interval by interval, then the target's recordings collected and
judged (one hold of a `Session`). The load (operators' actions) runs beside it unless `load`
is off. Also: a run judged again from its ledger alone (`verdict_of`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from simulator.lab.attach import remove_cameras, reopen
from simulator.lab.inputs import RunInputs
from simulator.lab.ledger import Ledger, LedgerError
from simulator.lab.session import LabOptions, Session
from simulator.lab.verdict import Slos, Verdict
from simulator.limits import clip, shown
from simulator.model.city import City


@dataclass
class RunStatus:
    """How the run stands after an interval: what its status line shows."""

    elapsed_s: float
    duration_s: float
    streaming: int
    cameras: int
    faults: int
    actions: int = 0
    failures: int = 0
    load: str = ""  # "" (no load), "running", "ended (exit N)"


def run_lab(
    city: City, opts: LabOptions, inputs: RunInputs,
    on_progress: Callable[[RunStatus], None] | None = None,
) -> Verdict:  # fmt: skip
    """Run the lab on its inputs (written once, `RunInputs.write`) and return its verdict
    (the caller writes it). Ctrl-C ends the run early and still judges what ran."""
    with Session(city, opts, inputs) as s:
        s.attach(s.cameras())
        if opts.load and inputs.actions:
            s.start_load()
        s.start_replay()
        show = None if on_progress is None else lambda held: on_progress(_progress(s, held))
        _, ended = s.hold(opts.duration_s, show)
        s.end(ended)
        s.end_load()
        s.stop_streams()
        return s.judge((s.started, ended))


def _progress(s: Session, elapsed_s: float) -> RunStatus:
    cams = s.gen.last_cameras  # as the interval just sampled read them
    streaming = sum(1 for c in cams if c.main.clients > 0)
    p = RunStatus(elapsed_s, s.opts.duration_s, streaming, len(cams), s.faults)
    if s.load is not None:
        p.actions, p.failures = s.load.done, s.load.failed
        code = s.load.proc.poll()
        p.load = "running" if code is None else f"ended (exit {code})"
    return p


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
               scenario: str | None = None, mapping: str | None = None) -> Verdict:  # fmt: skip
    """Judge a run from its ledger alone (after a crash or a kill) and return the verdict (the
    caller writes it): the window ends at the last interval written; the cameras are removed
    from the target unless it was --keep.

    The ledger is data, not configuration: it is opened read-only and checked
    (`Ledger.read`); the target is asked what it recorded, and cleaned, only at `host`, the
    user's, which must be the host the ledger names, through `mapping`, the user's, which
    must be the mapping the ledger names (a REST target: the mapping says where requests go;
    motion needs neither: its files are read in OUT/motion, whatever the ledger says); the
    scenario is `scenario` (the user's) or the
    ledger's, read with the same bounded reader. Raises LedgerError (could not judge),
    VerdictError (the user's input), NoAnswer (the target did not answer)."""
    from simulator.lab.collect import collect
    from simulator.targets import TargetError

    ledger = Ledger.read(out / "ledger.sqlite")
    try:
        f = run_facts(ledger)
        _check_place(f, out, host, mapping)
        city = _city(f, scenario, ledger.path)
        last = ledger.rows("SELECT max(t1) FROM sent")[0][0]
        window = (f.started, f.ended or last)
        if window[1] is None:
            raise LedgerError(f"{ledger.path}: the run did not get far enough to judge (no "
                              "interval written)")  # fmt: skip
        where = host or f.host
        try:
            try:
                target = reopen(f.target, where, f.user, password, f.attached)
            except ValueError as exc:  # the mapping the ledger names
                raise LedgerError(f"{ledger.path}: {clip(str(exc), 300)}") from None
            verdict = collect(ledger, target, city, window, Slos(**f.slos), 0)
        except (OSError, TargetError) as exc:
            raise NoAnswer(f"the target at {where}: {clip(str(exc).splitlines()[0], 300)}"
                           ) from None  # fmt: skip
        if not f.keep and f.target != "motion":
            remove_cameras(target, [t for (t,) in ledger.rows("SELECT target_id FROM cameras")])
        return verdict
    finally:
        ledger.close()


def _check_place(f: RunFacts, out: Path, host: str | None, mapping: str | None) -> None:
    """The user's --host is the ledger's, and so is a REST target's --mapping (it says where
    requests go, with which credentials); motion's files are read in OUT/motion only."""
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
    named = f.attached.get("mapping")
    if f.target == "rest" and mapping is None:
        raise VerdictError(
            f"{out}: pass --mapping {clip(str(named))} too: a REST mapping "
            "says where requests go; a ledger is not trusted to name one"
        )
    if mapping is not None:
        if named is None or Path(mapping).resolve() != Path(named).resolve():
            raise VerdictError(f"--mapping {clip(mapping)}: not the ledger's "
                               f"{clip(str(named))} (the run's)")  # fmt: skip
        f.attached = {**f.attached, "mapping": mapping}


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
