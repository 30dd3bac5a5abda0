"""`camsim loadtest`: the scenario's operators' actions replayed against a system under test
by Locust (headless, in a subprocess so that --processes works), checked first, summarised
after."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import click

from simulator.cli.common import check_host, fail, load, scenario_options
from simulator.cli.options import (
    mapping_option,
    password_option,
    speed_option,
    start_option,
    target_option,
    timeline_option,
    user_option,
)

RUN_TIME = re.compile(r"^(\d+h)?(\d+m)?(\d+s?)?$")


def preflight(settings, host: str, scenario=None):  # noqa: ANN001, ANN201
    """The plan checked before any load: the schedule (a timeline's names against the
    scenario's City), the target reachable, logged in, and every camera of the schedule on
    it. `scenario`: already read. Mistakes: one line, exit 2."""
    from loadtests.plan import Plan, camera_map, make_target
    from simulator.targets.base import TargetError
    from simulator.targets.http import FastClient

    plan = Plan(settings, scenario, check=True)
    try:
        actions = plan.actions
    except (ValueError, OSError) as exc:
        fail(str(exc))
    if not actions:
        fail(f"{settings.timeline or settings.scenario}: no operators' actions to replay")
    client = FastClient(timeout_s=15)
    try:
        target = make_target(settings, client, host)
        target.login()
        target.health()
        cameras = camera_map(settings, target)
    except ValueError as exc:
        fail(str(exc))
    except TargetError as exc:
        fail(f"target {host}: {str(exc).splitlines()[0][:300]}")
    finally:
        client.close()
    missing = sorted({e.camera for e in actions if e.camera not in cameras})
    if missing:
        fail(f"target {host} lacks {len(missing)} camera(s) of the schedule, e.g. "
             f"{', '.join(missing[:3])} (add them, or pass --camera-map)")  # fmt: skip
    return plan


def _check_rtsp(source: str) -> None:
    """The --rtsp source gives some rtsp:// URLs (mistakes: one line, exit 2)."""
    from loadtests.users.rtsp import rtsp_urls

    if source.startswith("http"):
        check_host(source, "--rtsp")
    try:
        urls = rtsp_urls(source)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        fail(f"--rtsp {source}: cannot read the stream URLs: {exc}")
    if not urls:
        fail(f"--rtsp {source}: no rtsp:// URLs there")


def _progress(stats_csv: Path, started: float, total: int) -> str:
    """One line from Locust's live CSV: actions done and failed, the worst dispatch lag."""
    done = failed = 0
    lag = 0.0
    try:
        with open(stats_csv, newline="") as f:
            for row in csv.DictReader(f):
                if row["Type"] == "ACTION":
                    done += int(row["Request Count"])
                    failed += int(row["Failure Count"])
                elif row["Type"] == "DISPATCH":
                    lag = max(lag, float(row["Max Response Time"] or 0))
    except (OSError, KeyError, ValueError):
        pass
    return (f"\r{time.monotonic() - started:6.0f} s: {done}/{total} actions done, "
            f"{failed} failed, worst dispatch lag {lag:.0f} ms ")  # fmt: skip


@click.command()
@click.argument("scenario", type=click.Path(path_type=str))
@target_option
@click.option("--host", required=True, help="The target's URL, e.g. http://127.0.0.1:8089/zm.")
@mapping_option
@click.option("--stream-url", help="motion: the URL of its stream port.")
@click.option(
    "--camera-map",
    type=click.Path(dir_okay=False),
    help="JSON {camsim camera id: target id} [default: the target's camera names].",
)
@user_option
@password_option
@timeline_option
@click.option("--cameras", help="Only the first N cameras, or these comma-separated ids.")
@speed_option
@start_option
@click.option("--run-time", help="Stop after this long (e.g. 90s, 10m, 1h30m) [default: when "
              "the timeline's actions are done].")  # fmt: skip
@click.option("--actions-log", type=click.Path(dir_okay=False),
              help="Append one JSON line per action done to this file (camsim lab "
              "reads it).")  # fmt: skip
@click.option("--processes", default=1, show_default=True, type=click.IntRange(1, 256),
              help="Locust worker processes on this machine.")  # fmt: skip
@click.option("--master-bind-host", default="127.0.0.1", show_default=True,
              help="With --processes: the address Locust's master listens on for its "
              "workers (port 5557).")  # fmt: skip
@click.option("--rtsp-viewers", default=0, type=click.IntRange(0), help="RTSP viewers at most.")
@click.option("--rtsp", "rtsp_source", help="camsim serve's http://…/api/cameras (or a file "
              "of rtsp:// URLs) for the RTSP viewers.")  # fmt: skip
@click.option("--view-s", default=60.0, show_default=True, type=click.FloatRange(min=0.5),
              help="Length of one RTSP viewing, then the next camera.")  # fmt: skip
@click.option("--integration", is_flag=True,
              help="An alarm integration user raises the schedule's alarms when due; the "
              "operators' alarm checks acknowledge them.")  # fmt: skip
@click.option(
    "--late-ms",
    default=100.0,
    show_default=True,
    type=click.FloatRange(min=0),
    help="An action starting later than this after its due time is late.",
)
@click.option("--metrics-port", default=-1, type=click.IntRange(-1, 65535),
              help="Prometheus /metrics on 127.0.0.1 (-1: off).")  # fmt: skip
@click.option("--csv", "csv_prefix", help="Write Locust's CSV files with this prefix.")
@click.option("--html", type=click.Path(dir_okay=False), help="Write Locust's HTML report.")
@click.option("--summary", "summary_file", type=click.Path(dir_okay=False),
              help="Write the summary as JSON here.")  # fmt: skip
@scenario_options
def loadtest(scenario: str, target_kind: str, host: str, overrides: tuple[str, ...],
             seed: int | None, days: float | None, **kw) -> None:  # noqa: ANN003  # fmt: skip
    """Replay the operators' actions against a system under test.

    The scenario's actions (or a timeline's) run open-model through Locust, headless, then
    a summary by action is printed. SCENARIO is a scenario file, or a lab run's inputs (the
    directory OUT/run that `camsim lab` writes): its scenario, its schedule.jsonl unless
    --timeline, checked against the cameras it handed over (cameras.json)."""
    from loadtests.plan import Settings
    from loadtests.summary import table

    host = check_host(host)
    handover = None
    if Path(scenario).is_dir():  # a lab run's: its City and timeline built, handed over
        from simulator.cli.streams import run_inputs

        inputs = run_inputs(scenario, overrides, seed, days)
        scenario, handover = str(inputs.scenario), str(inputs.cameras)
        kw["timeline_file"] = kw["timeline_file"] or str(inputs.schedule)
    s = load(scenario, overrides, seed, days)
    if s.operators is None and not kw["timeline_file"]:
        fail(f"{scenario}: no operators section: the scenario has no actions to replay")
    if kw["run_time"] and not (RUN_TIME.match(kw["run_time"]) and kw["run_time"].strip("0hms")):
        fail(f"--run-time: expected e.g. 90s, 10m or 1h30m, got {kw['run_time']!r}")
    if kw["rtsp_viewers"] and not kw["rtsp_source"]:
        fail("--rtsp-viewers needs --rtsp (camsim serve's http://…/api/cameras)")
    if kw["rtsp_source"]:
        _check_rtsp(kw["rtsp_source"])
    sets = [*overrides, *([f"simulation.seed={seed}"] if seed is not None else []),
            *([f"simulation.days={days}"] if days is not None else [])]  # fmt: skip
    settings = Settings(
        scenario=scenario, timeline=kw["timeline_file"], handover=handover, cameras=kw["cameras"],
        overrides=tuple(sets), target=target_kind, mapping=kw["mapping"],
        camera_map=kw["camera_map"], stream_url=kw["stream_url"], user=kw["user"],
        password=kw["password"],
        speed=kw["speed"], start_at=kw["start_at"], late_ms=kw["late_ms"],
        integration=kw["integration"],
    )  # fmt: skip
    plan = preflight(settings, host, s)
    total = len(plan.actions)
    click.echo(f"camsim loadtest: {total} actions over {plan.end_s - kw['start_at']:.0f} "
               f"simulated s at speed {kw['speed']:g} against {host}", err=True)  # fmt: skip
    sweep_stale(Path(tempfile.gettempdir()))
    with tempfile.TemporaryDirectory(prefix=f"camsim-load-{os.getpid()}-") as tmp:
        prefix = kw["csv_prefix"] or str(Path(tmp) / "locust")
        for path in (prefix, kw["html"], kw["summary_file"]):
            if path:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
        summary_path = kw["summary_file"] or str(Path(tmp) / "summary.json")
        cmd = _locust_command(settings, host, kw, prefix, summary_path)
        rc = _run(cmd, Path(f"{prefix}_stats.csv"), total, Path(tmp) / "locust.log", kw["password"])
        try:
            summary = json.loads(Path(summary_path).read_text())
        except (OSError, ValueError):
            log = (Path(tmp) / "locust.log").read_text(errors="replace").strip().splitlines()
            fail(f"locust ended ({rc}) without a summary: {' / '.join(log[-3:])[:400]}")
    click.echo(table(summary))
    sys.exit(0 if rc in (0, 1) and not _failed(summary) else 1)


def sweep_stale(root: Path) -> None:
    """Remove the temporary directories of loadtests that were killed (SIGKILL leaves them):
    `camsim-load-<pid>-*` whose process no longer runs."""
    for d in root.glob("camsim-load-*-*"):
        pid = d.name.split("-")[2]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(d, ignore_errors=True)


def _failed(summary: dict) -> bool:
    rows = [*summary["actions"].values(), *summary.get("integration", {}).values()]
    return any(r["failures"] or r["dropped"] for r in rows)


def _locust_command(settings, host: str, kw: dict, prefix: str, summary: str) -> list[str]:  # noqa: ANN001
    import loadtests

    locustfile = Path(loadtests.__file__).parent / "locustfile.py"
    cmd = [sys.executable, "-m", "locust", "-f", str(locustfile), "--headless", "--host", host,
           "--only-summary", "--loglevel", "WARNING", "--csv", prefix,
           "--camsim-scenario", settings.scenario, "--camsim-target", settings.target,
           "--camsim-speed", repr(settings.speed), "--camsim-start-at", repr(settings.start_at),
           "--camsim-late-ms", repr(settings.late_ms), "--camsim-summary", summary,
           "--camsim-metrics-port", str(kw["metrics_port"])]  # fmt: skip
    for flag, value in (("--camsim-timeline", settings.timeline),
                        ("--camsim-handover", settings.handover),
                        ("--camsim-cameras", settings.cameras),
                        ("--camsim-mapping", settings.mapping),
                        ("--camsim-stream-url", settings.stream_url),
                        ("--camsim-camera-map", settings.camera_map),
                        ("--camsim-user", settings.user),
                        ("--camsim-rtsp", kw["rtsp_source"]),
                        ("--html", kw["html"]), ("--run-time", kw["run_time"]),
                        ("--camsim-actions-log", kw["actions_log"])):  # fmt: skip
        if value:
            cmd += [flag, str(value)]
    for override in settings.overrides:
        cmd += ["--camsim-set", override]
    if kw["rtsp_viewers"]:
        cmd += [
            "--camsim-rtsp-viewers",
            str(kw["rtsp_viewers"]),
            "--camsim-view-s",
            repr(kw["view_s"]),
        ]
    if settings.integration:
        cmd.append("--camsim-integration")
    if kw["processes"] > 1:
        cmd += ["--processes", str(kw["processes"]), "--master-bind-host", kw["master_bind_host"]]
    return cmd


def _run(cmd: list[str], stats_csv: Path, total: int, log: Path, password: str | None) -> int:
    """Run Locust, a progress line on a terminal, its output kept in `log`."""
    import loadtests
    from simulator.lab.processes import tied

    root = str(Path(loadtests.__file__).parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (root, os.environ.get("PYTHONPATH")) if p)}  # fmt: skip
    if password:
        env["CAMSIM_TARGET_PASSWORD"] = password  # kept off the command line
    started = time.monotonic()
    tty = sys.stderr.isatty() or os.environ.get("CAMSIM_PROGRESS") == "1"
    with open(log, "w") as out:
        # Locust ends with this process, even when it is killed (as the lab's load may be)
        proc = subprocess.Popen(tied(cmd), stdout=out, stderr=subprocess.STDOUT, env=env)
        try:
            while proc.poll() is None:
                time.sleep(1.0)
                if tty:
                    click.echo(_progress(stats_csv, started, total), err=True, nl=False)
        except KeyboardInterrupt:
            proc.terminate()
            proc.wait()
        if tty:
            click.echo(_progress(stats_csv, started, total), err=True)
    return proc.returncode
