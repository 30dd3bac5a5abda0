"""A lab session: the ledger, the target, the stream generator, the operators' load and the
sampler of one `camsim lab` run, wired once. A run is one `hold`; a capacity search is a loop
of `attach` and `hold`. Leaving the session stops what it started and takes the cameras out
of the target again (unless --keep). Its children read the run's inputs, which the lab built
once (`inputs.py`): the resolved scenario, the faults and the actions."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simulator.lab.attach import (
    Attached,
    device_urls,
    open_target,
    register,
    register_onvif,
    start_motion,
)
from simulator.lab.generator import Generator
from simulator.lab.inputs import RunInputs
from simulator.lab.ledger import Ledger
from simulator.lab.load import Load
from simulator.lab.sampler import Sampler
from simulator.lab.verdict import Slos, Verdict
from simulator.model.city import City
from simulator.streams.records import CameraRow

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
    register: str = "api"  # "onvif": as ZoneMinder's ONVIF wizard adds cameras
    onvif_port: int = 0  # register onvif: the first camera's ONVIF port (serve --onvif-port)
    keep: bool = False
    load: bool = True  # the operators' actions, when the scenario or timeline has some
    interval_s: float = 10.0
    warmup_s: float = 20.0  # after registering, before the timeline starts
    settle_s: float = 15.0  # after the cameras stop, before the recordings are read
    slos: Slos = field(default_factory=Slos)


class Session:
    """One lab run's processes and ledger (OUT/ledger.sqlite), as a context manager: entering
    opens the ledger with the run's facts, logs in to the target (motion: the lab starts it
    at `attach`) and starts `camsim serve`; leaving stops the load and the generator, takes
    the cameras out of the target (unless opts.keep) and closes the ledger."""

    def __init__(self, city: City, opts: LabOptions, inputs: RunInputs, **facts: Any) -> None:
        self.city, self.opts, self.facts = city, opts, facts  # facts: more for the ledger
        self.inputs = inputs
        self.motion = opts.target == "motion"  # its cameras come from its configuration
        self.ledger: Ledger  # opened on entering
        self.sampler: Sampler
        self.gen: Generator | None = None
        self.attached: Attached | None = None
        self.load: Load | None = None
        self.started = 0.0  # when the timeline started
        self.faults = 0  # applied so far, as the sampler read them
        self.interrupted = False  # Ctrl-C ended a hold

    def __enter__(self) -> Session:
        opts = self.opts
        opts.out.mkdir(parents=True, exist_ok=True)
        self.ledger = Ledger(opts.out / "ledger.sqlite")
        try:
            self.ledger.set(**facts(opts), **self.facts)
            # bad credentials end the run before any stream starts
            target = None if self.motion else open_target(opts.target, opts.host, opts.user,
                                                          opts.password, opts.mapping)  # fmt: skip
            self.gen = Generator.start(serve_args(opts, self.inputs), opts.out / "serve.log")
            self.ledger.set(generator_pid=self.gen.pid, generator=self.gen.ready.to_dict())
            self.sampler = Sampler(self.ledger, self.gen, target, opts.target)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        if self.load is not None:
            self.load.stop()
        if self.gen is not None:
            self.gen.stop()
        if self.attached is not None:
            self.attached.close(self.opts.keep)
        self.ledger.close()

    @property
    def ids(self) -> dict[str, str]:
        """The cameras in the target: camsim camera id → the target's id, in the order added."""
        return {} if self.attached is None else self.attached.ids

    @property
    def target(self) -> Any:
        """The target's adapter."""
        return self.sampler.target

    def cameras(self) -> list[CameraRow]:
        """The cameras the generator serves (its /api/cameras rows): what can be attached."""
        return self.gen.cameras()

    def attach(self, cameras: list[CameraRow]) -> None:
        """Add these cameras to the target (motion: start it with them, once), keep them in
        the ledger, let them connect and start recording (the warm-up), and count what is
        sent from then on."""
        if self.motion:
            added = start_motion(self.opts.host, cameras, self.opts.out / "motion")
        elif self.opts.register == "onvif":
            devices = device_urls(self.cameras(), self.opts.onvif_port)
            added = register_onvif(self.sampler.target, cameras, devices)
        else:
            added = register(self.sampler.target, cameras, self.opts.mapping)
        if self.attached is None:
            self.attached = added
        else:
            self.attached.merge(added)
        self.ledger.set(attached=self.attached.facts)
        for cam in cameras:
            main = cam.main
            self.ledger.camera(cam.id, added.ids[cam.id], main.url, main.fps, main.width,
                               main.height, time.time())  # fmt: skip
        self.sampler.target = self.attached.target
        self.sampler.cameras = {tid: cam for cam, tid in self.ids.items()}
        time.sleep(self.opts.warmup_s)
        self.gen.interval()  # counters from here on

    def start_load(self, opts: LabOptions | None = None, out: Path | None = None,
                   schedule: Path | None = None) -> None:  # fmt: skip
        """Start the operators' load (`camsim loadtest`) as `opts` say [the session's], its
        files in `out` [OUT], replaying `schedule` [the run's]; the sampler reads its
        actions."""
        args = load_args(opts or self.opts, self.inputs.dir, schedule or self.inputs.schedule,
                         self.attached.facts if self.attached else {})  # fmt: skip
        self.load = self.sampler.load = Load.start(args, out or self.opts.out)

    def start_replay(self) -> None:
        """Start the timeline's replay in the generator; the ledger keeps when."""
        self.gen.start_replay()
        self.gen.lateness()  # the send lateness from here on, not the warm-up's
        self.started = time.time()
        self.ledger.set(started=self.started)

    def hold(self, seconds: float, on_progress: Callable[[float], None] | None = None,
             fresh: bool = False) -> tuple[float, float]:  # fmt: skip
        """Read an interval into the ledger every opts.interval_s for `seconds`, calling
        `on_progress` with the seconds held after each; returns the window held. Ctrl-C ends
        it early (`interrupted`, kept in the ledger). `fresh`: the first interval starts with
        the hold rather than at the last reading (a capacity step's counters are its own)."""
        if fresh:  # counters and send lateness from here on, not the attach's or warm-up's
            self.gen.interval()
            self.gen.lateness()
        start = time.time()
        try:
            while (now := time.time()) - start < seconds:
                time.sleep(min(self.opts.interval_s, max(0.0, seconds - (now - start))))
                self.faults += self.sampler.sample()
                if on_progress is not None:
                    on_progress(time.time() - start)
        except KeyboardInterrupt:
            self.interrupted = True
            self.ledger.set(interrupted=True)
        return start, time.time()

    def end_load(self, grace_s: float = LOAD_GRACE_S) -> None:
        """Wait for the load to end (its run time and `grace_s`; none after Ctrl-C) and keep
        its summary, then read one more interval, with its last actions."""
        if self.load is not None:
            self.ledger.set(load=self.load.finish(0.0 if self.interrupted else grace_s))
        self.sampler.sample()
        self.load = self.sampler.load = None

    def end(self, at: float | None = None) -> None:
        """The run's end [now], as the ledger keeps it."""
        self.ledger.set(ended=time.time() if at is None else at)

    def stop_streams(self) -> None:
        """The cameras go away, so the target closes its recordings and their frame counts
        are final when it is asked (motion, which the lab runs, ends: the movie being
        written gets its index)."""
        self.gen.stop()
        time.sleep(self.opts.settle_s)
        if self.motion and self.attached is not None:
            self.attached.close(self.opts.keep)

    def judge(self, window: tuple[float, float], only: set[str] | None = None,
              actions_from: float | None = None) -> Verdict:  # fmt: skip
        """Ask the target what it recorded over the window and judge it: every camera, or
        `only` these; every action, or those started from `actions_from` on."""
        from simulator.lab.collect import collect

        return collect(self.ledger, self.target, self.city, window, self.opts.slos,
                       self.gen.missed, only=only, actions_from=actions_from)  # fmt: skip


def facts(opts: LabOptions) -> dict[str, Any]:
    """What the ledger keeps of the options, for `camsim verdict DIR` to judge the run."""
    return dict(scenario=opts.scenario, overrides=list(opts.overrides), seed=opts.seed,
                days=opts.days, target=opts.target, host=opts.host, user=opts.user,
                cameras=opts.cameras, speed=opts.speed, start_at=opts.start_at,
                keep=opts.keep, slos=opts.slos.__dict__, register=opts.register)  # fmt: skip


def serve_args(opts: LabOptions, inputs: RunInputs) -> list[str]:
    """`camsim serve`'s arguments: the run's inputs (the cameras handed over) and faults, its
    cameras on free ports, waiting for the replay."""
    args = [str(inputs.dir), "--rtsp-port", "0", "--api-port", "0", "--wait-start",
            "--speed", str(opts.speed), "--start-at", str(opts.start_at),
            "--timeline", str(inputs.faults)]  # fmt: skip
    if opts.cameras:
        args += ["--cameras", opts.cameras]
    if opts.register == "onvif":
        args += ["--onvif", "--onvif-port", str(opts.onvif_port)]
    return args


def load_args(opts: LabOptions, run: Path, schedule: Path, facts: dict[str, Any]) -> list[str]:
    """`camsim loadtest`'s arguments: the run's inputs in `run` (OUT/run: its scenario and the
    cameras handed over), the actions of `schedule` (on the attached cameras), for the run's
    duration and the load's lead; `facts` (the attached target's) name motion's stream
    server."""
    args = [str(run), "--target", opts.target, "--host", opts.host,
            "--speed", str(opts.speed), "--start-at", str(opts.start_at),
            "--run-time", f"{int(opts.duration_s + LOAD_LEAD_S)}s",
            "--timeline", str(schedule)]  # fmt: skip
    for flag, value in (("--user", opts.user), ("--mapping", opts.mapping),
                        ("--stream-url", facts.get("stream"))):  # fmt: skip
        if value is not None:
            args += [flag, str(value)]
    return args
