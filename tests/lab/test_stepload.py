"""A capacity step's load: the operators' whole load of its stretch of the timeline on the
step's cameras, so that at speed 1 every step of a search runs some; and what a step says
when none ran."""

from __future__ import annotations

from pathlib import Path

from simulator.lab.capacity import Capacity, Step
from simulator.lab.ledger import Ledger
from simulator.lab.session import LOAD_LEAD_S
from simulator.lab.stepload import StepLoad, done_by_kind
from simulator.model.city import City
from simulator.model.timeline import build_timeline
from simulator.scenario import load_scenario

ROOT = Path(__file__).parents[2]
STRASBOURG = str(ROOT / "scenarios" / "strasbourg.yaml")


def test_every_step_of_a_search_at_speed_1_has_actions_on_its_cameras() -> None:
    # the search: 30 of Strasbourg's cameras, 5 a step, held 1 min, 20 s of warm-up
    city = City.of(load_scenario(STRASBOURG))
    load = StepLoad.of(city, build_timeline(city, actions=True))
    ids = list(city.table.ids)
    hold = span = 60.0
    missed = []  # actions each step had, filtered to its cameras
    for k, n in enumerate(range(5, 31, 5)):
        at = k * (hold + LOAD_LEAD_S + 20.0)
        due = load.schedule(at, at + span, ids[:n])
        # filtered to the step's cameras: the tours pass them once every 9 minutes
        filtered = [e for e in load.actions if at <= e.t < at + span and e.camera in ids[:n]]
        everyone = [e for e in load.actions if at <= e.t < at + span]
        assert len(due) == len(everyone) > len(filtered)
        missed.append(len(filtered))
        assert {e.camera for e in due} == set(ids[:n])  # 8-16 monitors tour them all
        assert [(e.t, e.kind, e.params) for e in due] == [(e.t, e.kind, e.params) for e in everyone]
    # filtered, every step after the first (which starts on the tours' first step) had none
    assert missed[1:] == [0] * 5


def test_a_step_says_what_it_exercised_and_a_held_idle_step_is_not_conclusive() -> None:
    ran = Step(5, 0, 60, True, load=True, scheduled=64, actions={"live_view": 60, "review": 1},
               actions_failed=2)  # fmt: skip
    assert ran.api_exercised
    assert ran.api == "API exercised by 61 actions (live_view 60, review 1), 2 failed"
    due = Step(10, 80, 140, True, load=True, scheduled=64)
    assert not due.api_exercised and due.api == "API not exercised (64 actions due, none done)"
    none = Step(10, 80, 140, True, load=True)
    assert none.api == "API not exercised (no action due in the step's window)"
    unloaded = Step(10, 80, 140, True)
    assert unloaded.api == "API not exercised (no operators' load)"
    bad = Step(15, 160, 220, False, ["x"], load=True, scheduled=3)
    c = Capacity([ran, due, bad], 30, 5, 60)
    assert c.sustained == 10 and c.inconclusive == ["API not exercised at 10 cameras"]
    assert not c.conclusive and c.to_dict()["inconclusive"] == c.inconclusive
    assert c.to_dict()["steps"][1]["api_exercised"] is False
    # the failing step's silent API leaves the failure standing; --no-load is no load to miss
    assert Capacity([ran, bad], 30, 5, 60).conclusive
    assert Capacity([unloaded, Step(15, 0, 1, False, ["x"])], 30, 5, 60).conclusive


def test_a_steps_actions_are_those_its_checks_judged(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite")
    try:
        row = ("live_view", "labcam-001", None)
        ledger.record(actions=[(*row, 5.0, 0.1, 1, None), (*row, 15.0, 0.1, 1, None),
                               (*row, 16.0, 9.0, 0, "timeout"),
                               ("export", "labcam-002", None, 17.0, 0.5, 1, None)])  # fmt: skip
        assert done_by_kind(ledger, 10.0) == ({"export": 1, "live_view": 2}, 1)
        assert done_by_kind(ledger, 20.0) == ({}, 0)
    finally:
        ledger.close()
