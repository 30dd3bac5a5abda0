"""`camsim lab`: soak-test a real VMS end to end and write the verdict."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import click

from simulator.cli.common import (
    PASSED,
    SLO_FAILED,
    check_host,
    fail,
    not_judged,
    scenario_options,
)
from simulator.cli.options import (
    Duration,
    mapping_option,
    password_option,
    speed_option,
    start_option,
    target_option,
    timeline_option,
    user_option,
)
from simulator.limits import clip


def _capacity(city, opts, inputs, step: int, hold_s: float) -> None:  # noqa: ANN001
    """`camsim lab --find-capacity`: the search, a line per step, the answer; exit 0."""
    from simulator.lab.capacity import find_capacity
    from simulator.lab.generator import GeneratorError
    from simulator.targets import TargetError

    def on_interval(n: int, held: float) -> None:
        end = "\r" if sys.stderr.isatty() else "\n"
        click.echo(f"capacity: {n} cameras, held {held:4.0f}/{hold_s:.0f} s", err=True, nl=False)
        click.echo(end, err=True, nl=False)

    def on_step(s) -> None:  # noqa: ANN001
        what = "held" if s.passed else "FAILED: " + "; ".join(s.failed[:3])
        behind = " (the generator fell behind)" if s.harness_fell_behind else ""
        idle = ": not conclusive" if s.load and not s.api_exercised and s.passed else ""
        click.echo(f"step {s.cameras} cameras: {what}{behind} — {s.api}{idle}")

    try:
        c = find_capacity(city, opts, inputs, step, hold_s, on_step, on_interval)
    except GeneratorError as exc:
        fail(str(exc))
    except ValueError as exc:  # the operators' actions could not be drawn
        fail(f"{opts.timeline or opts.scenario}: {exc}")
    except (OSError, TargetError) as exc:
        fail(f"--host {opts.host}: {str(exc).splitlines()[0][:300]}")
    failing = next((s for s in c.steps if not s.passed), None)
    if failing is not None:
        click.echo(f"capacity: sustained {c.sustained} cameras; broke first at "
                   f"{failing.cameras}: {'; '.join(failing.failed)}")  # fmt: skip
    else:
        click.echo(f"capacity: sustained all {c.sustained} cameras the search could add")
    if c.inconclusive:
        click.echo(f"capacity: not conclusive: {'; '.join(c.inconclusive)}")
    click.echo(f"wrote {opts.out}/capacity.json, ledger.sqlite")
    sys.exit(0)


@click.command()
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=str))
@scenario_options
@target_option
@click.option("--host", help="The target's web root, e.g. http://127.0.0.1:8089/zm; motion: "
              "where the motion the lab starts answers [default: a free port].")  # fmt: skip
@mapping_option
@user_option
@password_option
@click.option("--cameras", help="The first N cameras, or these comma-separated ids [default: 3; "
              "with --find-capacity, the most the search may add: all].")  # fmt: skip
@click.option("--duration", "seconds", default="10m", show_default=True, type=Duration(),
              help="How long to run (90s, 10m, 2h; a bare number is seconds).")  # fmt: skip
@speed_option
@start_option
@timeline_option
@click.option("--keep", is_flag=True, help="Leave the cameras in the target afterwards.")
@click.option("--no-load", is_flag=True,
              help="Streams and faults only, no operators' actions.")  # fmt: skip
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Ledger and verdict here [default: out/lab-<SCENARIO's file name without "
              "extension>, e.g. out/lab-strasbourg].")  # fmt: skip
@click.option(
    "--recovery-slo",
    default=30.0,
    show_default=True,
    type=click.FloatRange(min=0),
    help="Seconds after a camera returns within which the target records again.",
)
@click.option("--frames-slo", default=0.95, show_default=True, type=click.FloatRange(0, 1),
              help="Least frames recorded / sent outside outages.")  # fmt: skip
@click.option("--register", "register_by", type=click.Choice(["api", "onvif"]), default="api",
              show_default=True, help="How cameras are added: through the target's API with "
              "camsim's stream URLs, or (zoneminder) as its ONVIF wizard adds them: serve "
              "with --onvif, ZoneMinder's zmonvif-probe.pl describes each camera, the monitor "
              "gets the stream URI and ONVIF URL it returned.")  # fmt: skip
@click.option("--find-capacity", is_flag=True,
              help="Add cameras in steps until the target first fails an SLO.")  # fmt: skip
@click.option("--step", default=10, show_default=True, type=click.IntRange(min=1),
              help="--find-capacity: cameras added per step.")  # fmt: skip
@click.option("--hold", default="5m", show_default=True, type=Duration(),
              help="--find-capacity: how long each step is held (90s, 5m).")  # fmt: skip
def lab(scenario: str, overrides: tuple[str, ...], seed: int | None, days: float | None,
        target_kind: str, host: str | None, mapping: str | None, user: str | None,
        password: str | None, cameras: str,
        seconds: float, speed: float, start_at: float, timeline_file: str | None,
        keep: bool, no_load: bool, out_dir: Path | None, recovery_slo: float,
        frames_slo: float, register_by: str, find_capacity: bool, step: int,
        hold: float) -> None:  # fmt: skip
    """Soak-test a real VMS and judge what it recorded.

    Serves SCENARIO's cameras, registers them in the target, replays the timeline's faults
    and the operators' load, keeps a ledger of what was sent, then judges what the target
    recorded. Exit 0 when every SLO passes, 1 when one fails, 2 for bad input, 3 when the
    run could not be judged (the target stopped answering once the run had started)."""
    from simulator.cli.streams import city_and_cameras
    from simulator.lab.attach import AttachError
    from simulator.lab.generator import GeneratorError
    from simulator.lab.run import run_lab
    from simulator.lab.session import LabOptions
    from simulator.lab.verdict import Slos
    from simulator.report.verdict import verdict_text, write_verdict

    if find_capacity and target_kind == "motion":
        fail("--find-capacity needs a target that takes cameras while it runs (zoneminder, "
             "rest); motion reads its cameras from its configuration")  # fmt: skip
    if cameras is None:
        cameras = None if find_capacity else "3"
    if target_kind == "motion":
        from simulator.lab.attach import motion_host

        host = motion_host(host)
    elif not host:
        fail(f"--target {target_kind} needs --host URL (its web root)")
    if target_kind == "rest" and not mapping:
        fail("--target rest needs --mapping FILE (see simulator/targets/mappings)")
    if target_kind != "rest" and mapping:
        fail(f"--mapping is for --target rest, not --target {target_kind}")
    if register_by == "onvif" and target_kind != "zoneminder":
        fail(f"--register onvif is for --target zoneminder (its zmonvif-probe.pl), not "
             f"--target {target_kind}")  # fmt: skip
    host = check_host(host)
    city, served = city_and_cameras(scenario, overrides, seed, days, cameras)
    out = out_dir or Path("out") / f"lab-{Path(scenario).stem}"
    inputs = _inputs(city, out, served, timeline_file, not no_load, find_capacity)
    opts = LabOptions(
        scenario=scenario, target=target_kind, host=host, out=out, overrides=overrides,
        seed=seed, days=days, user=user, password=password, cameras=cameras,
        duration_s=seconds, speed=speed, start_at=start_at, timeline=timeline_file, keep=keep,
        mapping=mapping, load=not no_load, register=register_by,
        slos=Slos(recovery_s=recovery_slo, frames_ratio=frames_slo),
    )  # fmt: skip
    if register_by == "onvif":
        from simulator.lab.attach import onvif_ports

        try:
            opts.onvif_port = onvif_ports(len(served))
        except AttachError as exc:
            fail(str(exc))

    def progress(p) -> None:  # noqa: ANN001
        end = "\r" if sys.stderr.isatty() else "\n"
        load = f", {p.actions} actions ({p.failures} failed), load {p.load}" if p.load else ""
        click.echo(f"lab: {p.elapsed_s:5.0f}/{p.duration_s:.0f} s, {p.streaming}/{p.cameras} "
                   f"cameras streaming, {p.faults} faults{load}", err=True, nl=False)  # fmt: skip
        click.echo(end, err=True, nl=False)

    from simulator.targets import TargetError

    if find_capacity:
        _capacity(city, opts, inputs, step, hold)
    from simulator.targets.mapping import MappingError

    signal.signal(signal.SIGTERM, _terminated)
    try:
        verdict = run_lab(city, opts, inputs, progress)
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM before the hold, or while judging
        not_judged("interrupted before the run could be judged")
    except (GeneratorError, AttachError, MappingError) as exc:
        fail(str(exc))
    except (OSError, TargetError) as exc:
        said = clip(str(exc).splitlines()[0] if str(exc) else type(exc).__name__, 300)
        if _run_started(out):  # the target stopped answering, e.g. when asked what it recorded
            not_judged(f"the target at {host}: {said}")
        fail(f"--host {host}: {said}")  # before the run: the target was never there
    try:  # an OSError here is the disk's, not the target's
        write_verdict(verdict, out)
    except OSError as exc:
        not_judged(f"{out}: cannot write the verdict: {exc.strerror or exc}")
    if register_by == "onvif":
        click.echo(_probe_line(out))
    click.echo(verdict_text(verdict))
    click.echo(f"wrote {out}/verdict.json, verdict.html, ledger.sqlite")
    sys.exit(0 if verdict.passed else 1)


def _terminated(signum: int, frame: object) -> None:
    """SIGTERM (a CI job's timeout, `kill`) ends the lab as Ctrl-C does: the hold stops, what
    was held is judged, the cameras leave the target. A second one is ignored, so that the
    clean-up is not cut short (SIGKILL still ends it at once)."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt


def _inputs(city, out: Path, served: list[int], timeline: str | None, load: bool,
            every_camera: bool):  # noqa: ANN001, ANN202  # fmt: skip
    """The run's inputs, built once and written to OUT/run for the lab's children (a
    --timeline checked here: mistakes are one line, exit 2)."""
    from simulator.lab.inputs import RunInputs
    from simulator.timeline.jsonl import TimelineError

    try:
        return RunInputs.write(city, out, served, timeline, load, every_camera)
    except TimelineError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"--out {out}: cannot write the run's inputs: {exc.strerror or exc}")


def _probe_line(out: Path) -> str:
    """What ZoneMinder's ONVIF probe did, as the ledger's run facts keep it (attached.onvif:
    camera, seconds, profiles described, PTZ)."""
    from simulator.lab.ledger import Ledger, LedgerError

    try:
        ledger = Ledger.read(out / "ledger.sqlite", check=False)
        try:
            cams = ledger.facts().get("attached", {}).get("onvif", {}).get("cameras", [])
        finally:
            ledger.close()
    except LedgerError as exc:
        return f"onvif: the ledger does not say what the probe did: {exc}"
    secs = sorted(c[1] for c in cams)
    if not secs:
        return "onvif: no camera probed"
    ptz = sum(1 for c in cams if c[3:4] == [True])
    return (f"onvif: {len(cams)} cameras added from zmonvif-probe.pl's profiles and stream "
            f"URIs, {secs[0]:.2f}-{secs[-1]:.2f} s a camera (median "
            f"{secs[len(secs) // 2]:.2f} s); {ptz} with ZoneMinder's ONVIF PTZ control"
            )  # fmt: skip


def _run_started(out: Path) -> bool:
    """Whether the run's window opened, as its ledger says: a target that fails after that
    leaves the run unjudged (exit 3); before it, the --host was wrong (exit 2)."""
    from simulator.lab.ledger import Ledger, LedgerError

    try:
        ledger = Ledger.read(out / "ledger.sqlite", check=False)
    except LedgerError:
        return False
    try:
        return bool(ledger.rows("SELECT 1 FROM run WHERE key = 'started'"))
    except LedgerError:
        return False
    finally:
        ledger.close()


@click.command()
@click.argument("out", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--host", help="The run's target (its web root, as the run had it): the only host "
              "asked what it recorded and cleaned; it must be the one the ledger names (a "
              "ledger is not trusted to name a host). Not for motion.")  # fmt: skip
@click.option("--scenario", type=click.Path(dir_okay=False, path_type=str),
              help="The run's scenario [default: the one the ledger names].")  # fmt: skip
@click.option(
    "--mapping",
    type=click.Path(dir_okay=False, path_type=str),
    help="--target rest runs: the run's REST mapping (it must be the ledger's).",
)
@password_option
def verdict(out: Path, host: str | None, scenario: str | None, mapping: str | None,
            password: str | None) -> None:  # fmt: skip
    """Write a lab run's verdict again from its ledger.

    Reads OUT/ledger.sqlite, e.g. after the run was killed; removes the run's cameras from
    the target unless it ran with --keep. The ledger is only read. Exit 0 when every SLO
    passes, 1 when one fails, 2 for bad input, 3 when the run cannot be judged (an unusable
    ledger, a target that does not answer)."""
    from simulator.lab.ledger import LedgerError
    from simulator.lab.run import NoAnswer, VerdictError, verdict_of
    from simulator.report.verdict import verdict_text, write_verdict

    if not (out / "ledger.sqlite").is_file():
        fail(f"{out}: no ledger.sqlite here (the --out of a camsim lab run)")
    if host is not None:
        host = check_host(host)
    try:
        v = verdict_of(out, password, host, scenario, mapping)
    except VerdictError as exc:
        fail(str(exc))
    except (LedgerError, NoAnswer) as exc:
        not_judged(str(exc))
    write_verdict(v, out)
    click.echo(verdict_text(v))
    sys.exit(PASSED if v.passed else SLO_FAILED)
