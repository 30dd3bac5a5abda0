"""A lab run: streams for the chosen cameras, registered in the target, the timeline's faults
replayed, the ledger kept interval by interval, then the target's recordings collected and
judged. The load (operators' actions) runs beside it unless `load` is off."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simulator.lab import processes
from simulator.lab.generator import Generator
from simulator.lab.ledger import Ledger
from simulator.lab.load import Load
from simulator.lab.verdict import Slos, Verdict
from simulator.model.city import City

LOAD_LEAD_S = 15.0  # the load logs in and checks the cameras before its replay starts
LOAD_GRACE_S = 120.0  # the load's own grace for actions in flight, and its summary

#: Processes whose CPU and memory the lab records when the target runs on this host.
TARGET_PROCESSES = {
    "zoneminder": ("zmc", "zma", "apache2", "mariadbd", "zmdc", "zmwatch"),
    "motion": ("motion",),
}


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


def open_target(kind: str, host: str, user: str | None, password: str | None) -> Any:
    """The adapter for `kind` on `host` (the load tests' own factory), logged in."""
    from loadtests.plan import Settings, make_target
    from loadtests.targets import FastClient

    target = make_target(Settings(target=kind, user=user, password=password), FastClient(), host)
    target.login()
    return target


def run_lab(
    city: City, opts: LabOptions, on_progress: Callable[[Progress], None] | None = None
) -> Verdict:
    """Run the lab; returns the verdict (also written to opts.out). Ctrl-C ends the run
    early and still judges what ran."""
    from simulator.lab.collect import collect
    from simulator.report.verdict import write_verdict

    opts.out.mkdir(parents=True, exist_ok=True)
    ledger = Ledger(opts.out / "ledger.sqlite")
    ledger.set(scenario=opts.scenario, overrides=list(opts.overrides), seed=opts.seed,
               days=opts.days, target=opts.target, host=opts.host, user=opts.user,
               cameras=opts.cameras, speed=opts.speed, start_at=opts.start_at,
               keep=opts.keep, slos=opts.slos.__dict__)  # fmt: skip
    target = open_target(opts.target, opts.host, opts.user, opts.password)
    gen = Generator.start(_serve_args(city, opts), opts.out / "serve.log")
    ledger.set(generator_pid=gen.pid, generator=gen.ready)
    registered: dict[str, str] = {}
    load: Load | None = None
    try:
        for cam in gen.cameras():
            main = cam["streams"]["main"]
            tid = target.add_camera(cam["id"], main["url"], main["width"], main["height"],
                                    main["fps"])  # fmt: skip
            registered[cam["id"]] = tid
            ledger.camera(cam["id"], tid, main["url"], main["fps"], main["width"],
                          main["height"], time.time())  # fmt: skip
        time.sleep(opts.warmup_s)
        gen.interval()  # counters from here on
        if opts.load and has_actions(city, opts):
            load = Load.start(_load_args(opts), opts.out)
        gen.start_replay()
        started = time.time()
        ledger.set(started=started)
        faults = 0
        try:
            while (elapsed := time.time() - started) < opts.duration_s:
                time.sleep(min(opts.interval_s, max(0.0, opts.duration_s - elapsed)))
                faults += _interval(ledger, gen, opts.target, load)
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
        _interval(ledger, gen, opts.target, load)
        # the cameras go away, so the target closes its recordings and their frame counts
        # are final when it is asked
        gen.stop()
        time.sleep(opts.settle_s)
        verdict = collect(ledger, target, city, (started, ended), opts.slos, gen.missed)
        write_verdict(verdict, opts.out)
        return verdict
    finally:
        if load is not None:
            load.stop()
        if not opts.keep:
            remove_cameras(target, registered.values())
        gen.stop()
        ledger.close()


def _progress(gen: Generator, load: Load | None, started: float, duration_s: float,
              faults: int) -> Progress:  # fmt: skip
    cams = gen.cameras()
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


def _load_args(opts: LabOptions) -> list[str]:
    args = [opts.scenario, "--target", opts.target, "--host", opts.host,
            "--speed", str(opts.speed), "--start-at", str(opts.start_at),
            "--run-time", f"{int(opts.duration_s + LOAD_LEAD_S)}s"]  # fmt: skip
    for o in opts.overrides:
        args += ["--set", o]
    for flag, value in (("--seed", opts.seed), ("--days", opts.days), ("--user", opts.user),
                        ("--cameras", opts.cameras), ("--timeline", opts.timeline)):  # fmt: skip
        if value is not None:
            args += [flag, str(value)]
    return args


def remove_cameras(target: Any, target_ids: Iterable[str]) -> None:
    """Take the run's cameras out of the target again."""
    for tid in target_ids:
        # cleaning up: the run's outcome stands whatever the target says now
        with contextlib.suppress(Exception):
            target.remove_camera(tid)


def verdict_of(out: Path, password: str | None = None) -> Verdict:
    """Judge a run from its ledger alone (after a crash or a kill): the window ends at the
    last interval written; the cameras are removed from the target unless it was --keep."""
    from simulator.cli.common import load
    from simulator.lab.collect import collect
    from simulator.report.verdict import write_verdict

    ledger = Ledger(out / "ledger.sqlite")
    try:
        f = ledger.facts()
        city = City.of(load(f["scenario"], tuple(f["overrides"]), f["seed"], f["days"]))
        target = open_target(f["target"], f["host"], f["user"], password)
        last = ledger.rows("SELECT max(t1) FROM sent")[0][0]
        window = (f["started"], f.get("ended") or last)
        slos = Slos(**f["slos"])
        verdict = collect(ledger, target, city, window, slos, 0)
        write_verdict(verdict, out)
        if not f["keep"]:
            remove_cameras(target, [t for (t,) in ledger.rows("SELECT target_id FROM cameras")])
        return verdict
    finally:
        ledger.close()


def _serve_args(city: City, opts: LabOptions) -> list[str]:
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


def _interval(ledger: Ledger, gen: Generator, target_kind: str, load: Load | None) -> int:
    """Read one interval from the generator (and the load) into the ledger; returns the
    faults applied."""
    sent = gen.interval()
    applied = gen.applied()
    late_p99, _ = gen.lateness()
    now = time.time()
    health = []
    me = processes.usage(gen.pid)
    if me is not None:
        health.append((now, "camsim serve", me.cpu_s, me.rss_mb, late_p99,
                       sum(s.late_skips for s in sent)))  # fmt: skip
    for name, u in processes.by_name(TARGET_PROCESSES.get(target_kind, ())).items():
        health.append((now, name, u.cpu_s, u.rss_mb, None, None))
    faults = [
        (a["seq"], a["kind"], a.get("camera"), a.get("district"), a.get("link"), a["wall"],
         a.get("until"), a["t"], json.dumps(a.get("params", {}), sort_keys=True), "timeline")
        for a in applied
    ]  # fmt: skip
    actions = load.actions() if load is not None else []
    ledger.record(sent=sent, faults=faults, actions=actions, health=health)
    return len(faults)
