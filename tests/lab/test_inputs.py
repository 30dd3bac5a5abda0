"""A lab run's inputs (OUT/run), built once by the lab: what its children read is what they
built themselves before, event for event (same seed → same timeline, same actions), and the
City's cameras handed over, so that they build no City."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from loadtests.schedule import Source
from simulator.lab.inputs import RunInputs
from simulator.model.city import City
from simulator.model.handover import Handover
from simulator.model.timeline import build_timeline
from simulator.scenario import load_scenario
from simulator.timeline.event import Event
from simulator.timeline.jsonl import TimelineError, read_jsonl

DATA = Path(__file__).parents[1] / "data"
LAB_LOAD = str(DATA / "lab-load.yaml")
STRASBOURG = str(Path(__file__).parents[2] / "scenarios" / "strasbourg.yaml")


@pytest.mark.parametrize(("scenario", "overrides", "cameras"), [
    (LAB_LOAD, ("simulation.seed=11",), "2"),  # every camera: the generator draws for all
    (STRASBOURG, ("simulation.days=0.25", "operators.monitors_each=2"), "5"),
    (STRASBOURG, ("simulation.days=0.25",), "centre-fixed-061,neuhof-006,gare-010"),
])  # fmt: skip
def test_the_children_read_what_they_built_themselves(
    tmp_path: Path, scenario: str, overrides: tuple[str, ...], cameras: str
) -> None:
    city = City.of(load_scenario(scenario, overrides))
    served = city.select(cameras)
    inputs = RunInputs.write(city, tmp_path, served)
    # the resolved scenario: the same scenario, so the same City
    assert load_scenario(inputs.scenario) == city.scenario
    # camsim serve built this: the faults of the served cameras (all of them: None)
    subset = served if len(served) < len(city.table) else None
    assert list(read_jsonl(inputs.faults, city.names)) == build_timeline(city, subset)
    # camsim loadtest (and each Locust process) built this: the served cameras' actions
    drawn = Source(scenario, None, cameras, overrides).events()
    assert drawn and inputs.actions == drawn
    assert list(read_jsonl(inputs.schedule)) == drawn
    assert Source(str(inputs.scenario), str(inputs.schedule)).events(check=False) == drawn
    # camsim serve and camsim loadtest got the City this: the served cameras, the names
    assert inputs.handover() == Handover.of(city, served)
    assert inputs.handover().names.names() == city.names


def test_the_load_checks_the_schedule_against_the_handover_and_builds_no_city(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    city = City.of(load_scenario(LAB_LOAD))
    inputs = RunInputs.write(city, tmp_path, city.select("2"))
    handover = inputs.handover()

    def rebuilt(*_: object) -> None:
        raise AssertionError("a child of the lab built a City")

    monkeypatch.setattr(City, "of", rebuilt)
    source = Source(str(inputs.scenario), str(inputs.schedule), handover=handover)
    assert source.events(check=True) == inputs.actions
    first = Source(str(inputs.scenario), str(inputs.schedule), "1", handover=handover)
    assert first.events() == [e for e in inputs.actions if e.camera == "labload-001"] != []
    inputs.schedule.write_text('{"t": 1, "kind": "review", "camera": "nope-001"}\n')
    with pytest.raises(TimelineError, match="unknown camera 'nope-001'"):
        source.events(check=True)
    with pytest.raises(ValueError, match="pass its timeline"):
        Source(str(inputs.scenario), None, handover=handover).events()


@pytest.mark.parametrize(("change", "args", "message"), [
    ("seed", (), "cameras.json: cameras.0.streams.main.seed: Input should be less than or "
     "equal to 4294967295"),
    ("gone", (), "cameras.json: cannot read the cameras handed over: No such file"),
    (None, ("--days", "2"), "a lab run's inputs are resolved: no --days"),
])  # fmt: skip
def test_loadtest_given_a_bad_run_is_one_line_and_exit_2(
    tmp_path: Path, change: str | None, args: tuple[str, ...], message: str
) -> None:
    city = City.of(load_scenario(LAB_LOAD))
    inputs = RunInputs.write(city, tmp_path, city.select("2"))
    if change == "gone":
        inputs.cameras.unlink()
    elif change == "seed":
        data = json.loads(inputs.cameras.read_text())
        data["cameras"][0]["streams"]["main"]["seed"] = 1 << 40
        inputs.cameras.write_text(json.dumps(data))
    run = subprocess.run([sys.executable, "-m", "simulator.cli", "loadtest", str(inputs.dir),
                          "--target", "zoneminder", "--host", "http://127.0.0.1:9", *args],
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert run.returncode == 2, run.stderr
    assert run.stderr.startswith("camsim: error:") and message in run.stderr, run.stderr
    assert len(run.stderr.strip().splitlines()) == 1


def test_a_capacity_search_has_every_cameras_actions_and_the_served_faults(
    tmp_path: Path,
) -> None:
    overrides = ("simulation.days=0.25",)
    city = City.of(load_scenario(STRASBOURG, overrides))
    served = city.select("5")
    inputs = RunInputs.write(city, tmp_path, served, every_camera=True)
    assert inputs.actions == Source(STRASBOURG, None, None, overrides).events()
    assert {e.camera for e in inputs.actions} > {city.table.ids[i] for i in served}
    assert list(read_jsonl(inputs.faults)) == build_timeline(city, served)
    # without the load: no actions at all
    assert RunInputs.write(city, tmp_path, served, load=False).actions == []
    assert inputs.schedule.read_text() == ""


def test_a_timeline_given_goes_to_the_generator_whole_and_its_actions_to_the_load(
    tmp_path: Path,
) -> None:
    city = City.of(load_scenario(LAB_LOAD))
    given = [Event(50.0, "live_view", "labload-002", params={"duration_s": 5.0, "operator": 0}),
             Event(10.0, "camera_down", "labload-002"),
             Event(20.0, "review", "labload-001", params={"operator": 1}),
             Event(30.0, "packet_loss", "labload-001", params={"percent": 5.0})]  # fmt: skip
    path = tmp_path / "given.jsonl"
    path.write_text("".join(e.to_json() + "\n" for e in given))
    inputs = RunInputs.write(city, tmp_path, city.select("1"), str(path))
    faults = list(read_jsonl(inputs.faults))
    assert [e.kind for e in faults] == ["camera_down", "packet_loss"]  # of every camera
    assert [(e.t, e.kind) for e in inputs.actions] == [(20.0, "review")]  # the served one's
    path.write_text('{"t": 1, "kind": "camera_down", "camera": "nope"}\n')
    with pytest.raises(TimelineError, match="unknown camera 'nope'"):
        RunInputs.write(city, tmp_path, [0], str(path))
