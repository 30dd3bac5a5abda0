"""Stream commands: `camsim timeline` (the events executors replay) and `camsim serve`
(synthetic RTSP cameras replaying them)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import io
import signal
import sys
import time
from pathlib import Path

import click

from simulator.cli.common import fail, load, scenario_options, write_file
from simulator.cli.options import Duration, speed_option, start_option, timeline_option


def city_and_cameras(scenario: str, overrides, seed, days, cameras=None, shard=None):  # noqa: ANN001, ANN201
    """The City of a scenario and the indexes of the chosen cameras (mistakes: exit 2)."""
    from simulator.model.city import City

    city = City.of(load(scenario, overrides, seed, days))
    try:
        return city, city.select(cameras, shard)
    except ValueError as exc:
        fail(str(exc))


def read_timeline(path: str, names) -> list:  # noqa: ANN001
    """A written timeline, checked against the city's `names` (mistakes: one line naming
    file:line)."""
    from simulator.timeline.jsonl import TimelineError, read_jsonl

    try:
        return list(read_jsonl(path, names))
    except TimelineError as exc:
        fail(str(exc))


def run_inputs(run: str, overrides: tuple[str, ...], seed: int | None, days: float | None):  # noqa: ANN201
    """The inputs a lab run wrote in the directory `run` (OUT/run). Its scenario is resolved,
    so --set, --seed and --days are mistakes (one line, exit 2)."""
    from simulator.lab.inputs import RunInputs

    named = (("--set", overrides), ("--seed", seed is not None), ("--days", days is not None))
    given = [name for name, on in named if on]
    if given:
        fail(f"{run}: a lab run's inputs are resolved: no {' or '.join(given)}")
    return RunInputs.at(Path(run))


def handed_over(inputs, cameras: str | None = None, shard: str | None = None):  # noqa: ANN001, ANN201
    """The cameras a lab run handed over (its inputs' cameras.json), chosen by --cameras and
    --shard among them (mistakes: one line naming the file and field, exit 2)."""
    try:
        return inputs.handover().select(cameras, shard)
    except ValueError as exc:  # HandoverError is one, as is a choice of cameras not there
        fail(str(exc))


@click.command()
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=str))
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=str), help="Write here [default: stdout]."
)
@click.option("--cameras", help="Only the first N cameras, or these comma-separated ids.")
@click.option("--shard", help="Only every n-th camera starting with the i-th: i/n (1-based).")
@click.option("--faults/--no-faults", default=True, show_default=True,
              help="Include the stream faults.")  # fmt: skip
@click.option("--actions/--no-actions", default=False, show_default=True,
              help="Include the operators' actions (the load tests' schedule).")  # fmt: skip
@scenario_options
def timeline(scenario: str, out: str | None, cameras: str | None, shard: str | None,
             faults: bool, actions: bool, overrides: tuple[str, ...], seed: int | None,
             days: float | None) -> None:  # fmt: skip
    """Write the scenario's timeline of events as JSON Lines.

    The events: camera, link, server, daylight, activity, stream faults and, with --actions,
    the operators' actions; sorted by time in seconds since the simulation start."""
    from simulator.model.timeline import build_timeline
    from simulator.timeline.jsonl import write_jsonl

    city, chosen = city_and_cameras(scenario, overrides, seed, days, cameras, shard)
    subset = chosen if (cameras or shard) else None
    events = build_timeline(city, subset, faults=faults, actions=actions)
    if out is None:
        write_jsonl(events, sys.stdout)
        return
    buf = io.StringIO()
    n = write_jsonl(events, buf)
    write_file(str(out), Path(out), buf.getvalue())
    click.echo(f"{out}: {n} events over {city.scenario.simulation.days:g} day(s)", err=True)


@click.command()
@click.argument("scenario", type=click.Path(path_type=str))
@scenario_options
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--rtsp-port", default=8554, show_default=True, type=click.IntRange(0, 65535),
              help="RTSP port; 0: any free one.")  # fmt: skip
@click.option("--api-port", default=8081, show_default=True, type=click.IntRange(0, 65535),
              help="The control API's HTTP port; 0: any free one.")  # fmt: skip
@click.option(
    "--udp-port", default=0, type=click.IntRange(0, 65534), help="RTP port (RTCP: +1); 0: any."
)
@click.option("--cameras", help="Serve only the first N cameras, or these comma-separated ids.")
@click.option("--shard", help="Serve every n-th camera starting with the i-th: i/n (1-based).")
@speed_option
@start_option
@timeline_option
@click.option("--no-faults", is_flag=True, help="Do not replay any timeline.")
@click.option("--wait-start", is_flag=True,
              help="Start the replay on POST /api/timeline/start, not at once.")  # fmt: skip
@click.option("--user", help="Require this user name (and --password).")
@click.option(
    "--password", envvar="CAMSIM_RTSP_PASSWORD", help="Password (or $CAMSIM_RTSP_PASSWORD)."
)
@click.option("--auth", "auth_scheme", type=click.Choice(["digest", "basic"]), default="digest",
              show_default=True, help="How the cameras ask for --user's credentials.")  # fmt: skip
@click.option("--max-sessions", default=10_000, show_default=True, type=click.IntRange(1),
              help="RTSP sessions at most, all cameras together.")  # fmt: skip
@click.option(
    "--max-clients",
    default=32,
    show_default=True,
    type=click.IntRange(1),
    help="Clients at most per stream.",
)
@click.option("--session-timeout", default=60.0, show_default=True, type=click.FloatRange(min=1),
              help="Seconds an RTSP session lasts without a keep-alive.")  # fmt: skip
@click.option(
    "--cache", type=click.Path(file_okay=False, path_type=Path),
    help="Clip cache directory [default: $CAMSIM_CACHE or ~/.cache/camsim/clips].",
)  # fmt: skip
@click.option(
    "--loop-seconds", default=4.0, show_default=True, type=click.FloatRange(min=0.1, max=600),
    help="Length of the encoded clip each stream loops, seconds.",
)  # fmt: skip
@click.option("--overlay", type=click.Choice(["auto", "camera", "group"]), default="auto",
              show_default=True, help="Name each camera in its picture (one clip per camera; "
              "auto: when at most 8 cameras) or each group (shared clips).")  # fmt: skip
@click.option("--no-udp", is_flag=True, help="Offer RTP over TCP only.")
@click.option("--no-gso", is_flag=True, help="Send one UDP datagram per RTP packet.")
@click.option("--no-sei", is_flag=True, help="No SEI with camera id and send time in frames.")
@click.option("--batch-ms", default=2.0, show_default=True, type=click.FloatRange(0, 20),
              help="Send frames due within this window together (fewer wake-ups, up to this "
              "much early).")  # fmt: skip
@click.option("--duration", type=Duration(zero_ok=True),
              help="Stop after this long (90s, 10m, 2h; a bare number is seconds) [default: "
              "run until Ctrl-C].")  # fmt: skip
@click.option("--quiet", is_flag=True, help="Do not list the stream URLs.")
@click.option("--onvif", is_flag=True, help="Make every camera an ONVIF device (device and "
              "media services, snapshots, WS-Discovery; the onvif extra).")  # fmt: skip
@click.option("--onvif-port", default=18000, show_default=True, type=click.IntRange(0, 65535),
              help="The first camera's ONVIF port (the next one's +1 …; 0: any free).")  # fmt: skip
def serve(scenario: str, overrides: tuple[str, ...], seed: int | None, days: float | None,
          **kw: object) -> None:  # fmt: skip
    """Serve the scenario's cameras as RTSP cameras with their faults.

    SCENARIO is a scenario file, or a lab run's inputs (the directory OUT/run that `camsim
    lab` writes): then its cameras as the lab handed them over (cameras.json), replaying
    its faults.jsonl unless --timeline or --no-faults.

    The cameras replay the timeline's faults. When every stream can be served, prints one
    JSON line on stdout, {"camsim": "ready", "rtsp_port": …, "api_port": …,
    "urls": "<API>/api/cameras", …, "token": …}; the control API's POSTs need that token as a
    bearer (or --user/--password as Basic). A --host other than a loopback address needs
    --user and --password."""
    from simulator.model.timeline import build_timeline
    from simulator.streams.heap import map_large_blocks
    from simulator.streams.http import is_loopback
    from simulator.streams.rtsp import Limits
    from simulator.streams.server import ServeOptions
    from simulator.timeline.clock import ReplayClock

    t0 = time.perf_counter()
    if Path(scenario).is_dir():  # a lab run's: its City and timeline built, handed over
        inputs = run_inputs(scenario, overrides, seed, days)
        handover = handed_over(inputs, kw["cameras"], kw["shard"])  # type: ignore[arg-type]
        served, indexes, names = handover, None, handover.names.names()
        timeline_file = kw["timeline_file"] or (None if kw["no_faults"] else str(inputs.faults))
    else:
        city, indexes = city_and_cameras(scenario, overrides, seed, days, kw["cameras"],
                                         kw["shard"])  # fmt: skip
        served, names, timeline_file = city, city.names, kw["timeline_file"]
    if kw["user"] is not None and not kw["password"]:
        fail("--user needs --password (or $CAMSIM_RTSP_PASSWORD)")
    if kw["user"] is None and not is_loopback(kw["host"]):  # type: ignore[arg-type]
        fail(f"--host {kw['host']} is not a loopback address: give --user and --password, "
             "which the cameras and the control API then require")  # fmt: skip
    events = []
    if timeline_file:
        events = read_timeline(timeline_file, names)
    elif not kw["no_faults"]:
        events = build_timeline(city, indexes if len(indexes) < len(city.table) else None)
    opts = ServeOptions(
        host=kw["host"],  # type: ignore[arg-type]
        rtsp_port=kw["rtsp_port"],  # type: ignore[arg-type]
        udp_port=kw["udp_port"],  # type: ignore[arg-type]
        loop_seconds=kw["loop_seconds"],  # type: ignore[arg-type]
        overlay=kw["overlay"],  # type: ignore[arg-type]
        limits=Limits(
            max_sessions=kw["max_sessions"],  # type: ignore[arg-type]
            max_clients_per_stream=kw["max_clients"],  # type: ignore[arg-type]
            timeout_s=kw["session_timeout"],  # type: ignore[arg-type]
        ),
        user=kw["user"],  # type: ignore[arg-type]
        password=kw["password"],  # type: ignore[arg-type]
        auth_scheme=kw["auth_scheme"],  # type: ignore[arg-type]
        udp=not kw["no_udp"],
        gso=not kw["no_gso"],
        sei=not kw["no_sei"],
        progress=sys.stderr.isatty(),
        batch_s=kw["batch_ms"] / 1000,  # type: ignore[operator]
    )
    if kw["cache"] is not None:
        opts.cache_dir = kw["cache"]  # type: ignore[assignment]
    clock = ReplayClock(kw["speed"], kw["start_at"])  # type: ignore[arg-type]
    map_large_blocks()  # an hour of slow readers' buffers is given back, not kept in the heap
    try:
        asyncio.run(_serve(served, indexes, opts, events, clock, kw, t0))
    except OSError as exc:
        fail(f"cannot serve: {exc}")


async def _serve(served, indexes, opts, events, clock, kw, t0) -> None:  # noqa: ANN001
    """Serve a City's cameras at `indexes`, or a lab run's handed over (`indexes` None)."""
    from simulator.streams.api import start_api
    from simulator.streams.http import ApiAuth
    from simulator.streams.records import ReadyLine
    from simulator.streams.server import CameraServer

    server = CameraServer(served, indexes, opts, events, clock)
    loop = asyncio.get_running_loop()
    built = await loop.run_in_executor(None, server.build_clips)
    for spec, bps in server.clip_stats:
        sc = spec.scene
        click.echo(
            f"clip {spec.codec} {sc.width}x{sc.height}@{sc.fps:g} {'night' if sc.night else 'day'} "
            f"{sc.label!r}: target {spec.target_bps / 1e6:.2f} Mbps, achieved {bps / 1e6:.2f} Mbps",
            err=True,
        )
    await server.start()
    auth = ApiAuth.new(opts.host, opts.user, opts.password)
    api, api_port = await start_api(server, opts.host, kw["api_port"], auth)
    onvif, onvif_line = None, ""
    if kw["onvif"]:  # every camera an ONVIF device (simulator/onvif/server.py)
        from simulator.onvif.server import serve_onvif

        onvif, onvif_line = await serve_onvif(server, kw["onvif_port"])
    # Clips, streams and imported modules live as long as the process: keep them out of the
    # garbage collector's full passes, which would otherwise stall the pacer for milliseconds.
    gc.freeze()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    if not kw["quiet"]:
        for p in server.plans:
            click.echo("  ".join(server.url(p.id, name) for name in p.streams))
    host = f"[{opts.host}]" if ":" in opts.host else opts.host
    click.echo(
        f"camsim serve: {len(server.plans)} cameras, {len(server.streams)} streams on "
        f"rtsp://{host}:{server.rtsp_port}/ (UDP {server.udp_ports[0]}-{server.udp_ports[1]}), "
        f"API http://{host}:{api_port}/, clips ready in {built:.1f} s, "
        f"started in {time.perf_counter() - t0:.1f} s, "
        f"{len(events)} timeline events at speed {clock.speed:g}",
        err=True,
    )
    if onvif_line:
        click.echo(onvif_line, err=True)
    if not kw["wait_start"]:
        server.start_replay()
    ready = ReadyLine(
        rtsp=f"rtsp://{host}:{server.rtsp_port}/",
        rtsp_port=server.rtsp_port,
        udp_ports=list(server.udp_ports),
        api=f"http://{host}:{api_port}/",
        api_port=api_port,
        urls=f"http://{host}:{api_port}/api/cameras",
        cameras=len(server.plans),
        streams=len(server.streams),
        timeline_events=len(events),
        speed=clock.speed,
        start_at=clock.start_at,
        replay="waiting for POST /api/timeline/start" if kw["wait_start"] else "started",
        token=auth.token,
    )
    click.echo(ready.to_json())
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        if kw["duration"] is not None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), kw["duration"])
        else:
            await stop.wait()
    finally:
        api.close()
        if onvif is not None:
            await onvif.stop()
        await server.stop()
        click.echo("camsim serve: stopped", err=True)
