"""`camsim serve` given a lab run's inputs (OUT/run): the cameras handed over are served as a
standalone serve of the same scenario and seed serves them, stream for stream, and serve
builds neither a City nor a timeline; a bad handover is one line and exit 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from simulator.lab.inputs import RunInputs
from simulator.model.city import City
from simulator.onvif.devices import describe
from simulator.scenario import load_scenario
from simulator.streams.clipcache import clip_key
from simulator.streams.server import CameraServer, ServeOptions
from tests.lab.builds import builds_by, counted, counted_env

TINY = Path(__file__).with_name("tiny.yaml")
STRASBOURG = Path(__file__).parents[2] / "scenarios" / "strasbourg.yaml"
CAMSIM = [sys.executable, "-m", "simulator.cli"]
SERVED = "h264cam-002,mjpegcam-001"


def _stream(server: CameraServer, key: str) -> tuple:
    """What a stream puts on the wire, given the same clock: its loops' bytes, RTP identity
    and phase, and the seed of its fault draws."""
    s = server.streams[key]
    return (s.ssrc, s.seq, s.phase, s.offset, s.seed, s.ts_base, s.sei_id, s.rng.random(),
            s.day.clip.frames, s.night.clip.frames)  # fmt: skip


@pytest.mark.parametrize("seed", [None, "simulation.seed=77"])
def test_a_stream_handed_over_is_the_stream_a_standalone_serve_builds(
    tmp_path: Path, clip_dir: Path, seed: str | None
) -> None:
    city = City.of(load_scenario(TINY, (seed,) if seed else ()))
    served = city.select(SERVED)
    inputs = RunInputs.write(city, tmp_path, served, load=False)
    opts = ServeOptions(cache_dir=clip_dir, loop_seconds=2.0, progress=False)
    standalone = CameraServer(city, served, opts)
    handed = CameraServer(inputs.handover(), None, opts)
    assert handed.plans == standalone.plans
    for server in (standalone, handed):
        server.build_clips()
    assert list(handed.streams) == list(standalone.streams) == [
        "h264cam-002/main", "h264cam-002/sub", "mjpegcam-001/main"]  # fmt: skip
    for key in standalone.streams:
        assert _stream(handed, key) == _stream(standalone, key)
        camera, name = key.split("/")
        assert handed.streams[key].ssrc == city.seeds.integer("streams", camera, name) & 0xFFFFFFFF
    # and as ONVIF devices: the same model (the camera's group), location and profiles
    ports = {cam: 18000 + i for i, cam in enumerate(SERVED.split(","))}
    devices = describe(handed, "127.0.0.1", ports)
    assert devices == describe(standalone, "127.0.0.1", ports)
    groups = {city.table.ids[i]: city.scenario.cameras[int(city.table.group[i])].name
              for i in served}  # fmt: skip
    assert {d.id: d.group for d in devices} == groups


def test_a_big_city_s_served_cameras_are_planned_alike(tmp_path: Path) -> None:
    city = City.of(load_scenario(STRASBOURG))
    served = city.select("12", "3/7")
    inputs = RunInputs.write(city, tmp_path, served, load=False)
    opts = ServeOptions(progress=False)
    handed = CameraServer(inputs.handover(), None, opts)
    standalone = CameraServer(city, served, opts)
    assert handed.plans == standalone.plans
    # the clips' content addresses too (they tell 10 from 10.0): the same loops, cached once
    assert _keys(handed) == _keys(standalone)


def _keys(server: CameraServer) -> list[str]:
    return [clip_key(spec) for p in server.plans for pair in p.streams.values() for spec in pair]


def _serve(
    target: Path, clip_dir: Path, env: dict[str, str], *args: str
) -> subprocess.CompletedProcess:
    cmd = [*CAMSIM, "serve", str(target), "--rtsp-port", "0", "--api-port", "0", "--quiet",
           "--cache", str(clip_dir), "--loop-seconds", "2", "--duration", "0", *args]  # fmt: skip
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)


def test_serve_given_a_run_builds_nothing_and_a_standalone_serve_builds_its_city(
    tmp_path: Path, clip_dir: Path
) -> None:
    city = City.of(load_scenario(TINY))
    inputs = RunInputs.write(city, tmp_path, city.select(SERVED), load=False)
    env, builds = counted_env(tmp_path)
    run = _serve(inputs.dir, clip_dir, env)
    assert run.returncode == 0, run.stderr[-2000:]
    ready = json.loads(run.stdout.splitlines()[0])
    assert (ready["cameras"], ready["streams"]) == (2, 3)
    faults = inputs.faults.read_text().count("\n")
    assert ready["timeline_events"] == faults  # the run's faults.jsonl, by default
    assert counted(builds) == {"serve"} and builds_by(builds) == {}
    # the counter sees a serve that builds: a standalone one builds its City and timeline
    run = _serve(TINY, clip_dir, env, "--cameras", SERVED)
    assert run.returncode == 0, run.stderr[-2000:]
    assert builds_by(builds) == {("serve", "City"): 1, ("serve", "timeline"): 1}
    # the handed over cameras chosen again, without their faults
    run = _serve(inputs.dir, clip_dir, env, "--cameras", "1", "--no-faults")
    ready = json.loads(run.stdout.splitlines()[0])
    assert (ready["cameras"], ready["streams"], ready["timeline_events"]) == (1, 2, 0)
    assert builds_by(builds) == {("serve", "City"): 1, ("serve", "timeline"): 1}


def _edit(path: Path, edit) -> None:  # noqa: ANN001
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))


@pytest.mark.parametrize(("change", "args", "message"), [
    (lambda p: p.unlink(), (), "cameras.json: cannot read the cameras handed over: No such file"),
    (lambda p: p.write_text("{"), (), "cameras.json: Expecting property name"),
    (lambda p: _edit(p, lambda d: d["cameras"][1]["streams"]["main"].update(gop=0)), (),
     "cameras.json: cameras.1.streams.main.gop: Input should be greater than or equal to 1"),
    (lambda p: _edit(p, lambda d: d["cameras"][0].pop("night_factor")), (),
     "cameras.json: cameras.0.night_factor: Field required"),
    (None, ("--seed", "3"), "a lab run's inputs are resolved: no --seed"),
    (None, ("--set", "simulation.days=2", "--days", "1"), "no --set or --days"),
    (None, ("--cameras", "h264cam-001"), "--cameras: unknown camera id(s): h264cam-001"),
])  # fmt: skip
def test_serve_given_a_bad_run_is_one_line_and_exit_2(
    tmp_path: Path,
    change,
    args: tuple[str, ...],
    message: str,  # noqa: ANN001
) -> None:
    city = City.of(load_scenario(TINY))
    inputs = RunInputs.write(city, tmp_path, city.select(SERVED), load=False)
    if change is not None:
        change(inputs.cameras)
    run = subprocess.run([*CAMSIM, "serve", str(inputs.dir), *args], capture_output=True,
                         text=True, timeout=60)  # fmt: skip
    assert run.returncode == 2, run.stderr
    assert run.stderr.startswith("camsim: error:") and message in run.stderr, run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
