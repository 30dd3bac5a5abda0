"""A lab run's inputs (OUT/run), built once by the lab: what its children read is what they
built themselves before, event for event (same seed → same timeline, same actions)."""

from __future__ import annotations

from pathlib import Path

import pytest

from loadtests.schedule import Source
from simulator.lab.inputs import RunInputs
from simulator.model.city import City
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
