"""The operators' actions (the load's schedule) against the model they come from.

- Every event is an action kind of the registry, its parameters pass the kind's check as they
  are, and it survives JSON Lines and the city's names.
- Requests over a year (450 cameras): each kind's count is Poisson around its rate (4
  standard errors) and its mean operator time the scenario's mean (4 standard errors of an
  exponential); reviews play back duration × 4 of recording, exports what had been recorded.
- Incidents: every incident the Watch detected has exactly one `incident_response`, on its
  camera, at its detection time (the re-drawn incidents plus the Watch's delays, exactly);
  none is missing but those that could be detected after the last second.
- Tours: each camera's live-view time over a day is dwell / cycle of it, the cycle the Wall
  gives (within one dwell); each step is where `Wall.next_on_screen` puts it; each monitor
  shows something whenever its operator works (1-s grid, within a second per change).
- No action starts while its operator is on a break or off duty, nor when nobody is on duty.
- The schedule covers the simulation's days (the watch runs longer if they are more than the
  incidents' days), and is the same generated an hour at a time or at once.
- A camera subset gives exactly the full list's actions on those cameras; same seed, same
  list; another seed, another; `camsim timeline --actions` writes the same list; a city
  without operators offers none.
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from simulator.cli import main
from simulator.model.actions import REVIEW_SPEED, action_events, iter_action_events
from simulator.model.city import City
from simulator.model.incidents import draw_incidents
from simulator.model.operators import city_watch
from simulator.model.timeline import build_timeline
from simulator.model.wall import Wall
from simulator.scenario.loader import validate
from simulator.scenario.schema import Scenario
from simulator.timeline.jsonl import parse_event, read_jsonl
from simulator.timeline.kinds import KINDS

STRASBOURG = Path(__file__).parents[2] / "scenarios" / "strasbourg.yaml"
REQUESTS = ("live_transfer", "review", "export", "alarm")


def strasbourg(**sections: dict) -> Scenario:
    """Strasbourg with some fields of some sections replaced."""
    data = yaml.safe_load(STRASBOURG.read_text(encoding="utf-8"))
    for name, fields in sections.items():
        data.setdefault(name, {}).update(fields)
    return validate(data)


@pytest.fixture(scope="module")
def day() -> tuple[City, list]:
    city = City.of(strasbourg())
    return city, action_events(city)


def begins(e) -> float:  # noqa: ANN001
    """When the operator begins the action (an alarm is raised before it is taken up)."""
    return e.t + e.params.get("wait_s", 0.0)


def test_every_action_passes_the_registry(day) -> None:  # noqa: ANN001
    city, events = day
    assert {e.kind for e in events} == {"live_view", "incident_response", *REQUESTS}
    for e in events:
        k = KINDS[e.kind]
        assert k.family == "action"
        assert k.check(e.params) == e.params
        back = parse_event(e.to_json(), city.names)
        assert (back.kind, back.camera, back.params) == (e.kind, e.camera, e.params)
        assert back.t == pytest.approx(e.t, abs=5e-4)
        assert e.params["duration_s"] > 0
    assert [e.sort_key() for e in events] == sorted(e.sort_key() for e in events)


def test_request_counts_and_times_follow_the_rates() -> None:
    s = strasbourg(simulation={"days": 366}, operators={"dwell_s": 3600, "monitors_each": 1})
    events = action_events(City.of(s))
    req = s.operators.requests
    per_year = dict(zip(REQUESTS, (
        req.live_transfers_per_camera_year, req.reviews_per_camera_year,
        req.exports_per_camera_year, req.alarm_checks_per_camera_year,
    ), strict=True))  # fmt: skip
    mean_s = dict(zip(REQUESTS, (
        req.live_transfer_min, req.review_min, req.export_min, req.alarm_check_min,
    ), strict=True))  # fmt: skip
    counts = Counter(e.kind for e in events)
    for kind in REQUESTS:
        want = per_year[kind] * 450 * 366 / 365
        assert abs(counts[kind] - want) < 4 * math.sqrt(want), (kind, counts[kind], want)
        spans = [e.params["duration_s"] - e.params.get("wait_s", 0.0) for e in events
                 if e.kind == kind]  # fmt: skip
        m = mean_s[kind] * 60
        assert abs(np.mean(spans) - m) < 4 * m / math.sqrt(len(spans)), (kind, np.mean(spans))
    for e in events:
        p = e.params
        if e.kind in ("review", "export"):
            assert p["from_s"] + p["length_s"] <= e.t + 1e-3
        if e.kind == "review" and p["from_s"] > 0:
            assert p["length_s"] == pytest.approx(p["duration_s"] * REVIEW_SPEED, abs=3e-3)


def test_every_detected_incident_has_one_response_at_its_detection() -> None:
    s = strasbourg(
        simulation={"days": 7}, incidents={"days": 7, "per_camera_day": 2.0},
        operators={"dwell_s": 60},
    )  # fmt: skip
    city = City.of(s)
    watch, _ = city_watch(city)  # type: ignore[misc]
    inc = draw_incidents(
        s.incidents, 450, s.simulation.start, city.seeds.generator("watch", "incidents")
    )
    responses = [e for e in action_events(city) if e.kind == "incident_response"]
    assert watch.detected > 300
    delays = Counter(watch.delays_s.tolist())
    matched = set()
    for e in responses:
        cam = city.camera_index[e.camera]
        k = [i for i in np.flatnonzero(inc.camera == cam)
             if inc.start_s[i] <= e.t < inc.start_s[i] + inc.visible_s[i]
             and delays[e.t - inc.start_s[i]] > 0]  # fmt: skip
        assert len(k) == 1, (e, k)
        delays[e.t - inc.start_s[k[0]]] -= 1
        matched.add(k[0])
    assert len(matched) == len(responses)
    missing = sum(delays.values())
    could_be_late = int(np.sum(inc.start_s + inc.visible_s > 7 * 86400))
    assert 0 <= missing <= could_be_late, (missing, could_be_late)


def test_a_cameras_share_of_the_wall_is_dwell_over_its_cycle() -> None:
    s = strasbourg(operators={"on_duty": [3] * 24, "break_min": 0})
    events = action_events(City.of(s))
    city = City.of(s)
    wall = Wall(s.operators, 450, s.simulation.start)  # type: ignore[arg-type]
    shown = np.zeros(450)
    for e in events:
        if e.kind == "live_view":
            shown[city.camera_index[e.camera]] += e.params["duration_s"]
    want = np.array([86400 * 10 / wall.tour(c, 0.0).cycle_s for c in range(450)])  # type: ignore[union-attr]
    assert np.all(np.abs(shown - want) <= 10.0), np.max(np.abs(shown - want))
    assert len(set(np.round(want))) > 1  # monitors with different cycles were compared


def test_tour_steps_are_where_the_wall_puts_them(day) -> None:  # noqa: ANN001
    city, events = day
    s = city.scenario
    wall = Wall(s.operators, 450, s.simulation.start)  # type: ignore[arg-type]
    views = [e for e in events if e.kind == "live_view"]
    rng = np.random.default_rng(0)
    for i in rng.choice(len(views), 3000, replace=False):
        e = views[i]
        cam = city.camera_index[e.camera]
        shown, until, op = wall.next_on_screen(cam, e.t)
        assert (shown, op) == (e.t, e.params["operator"])
        assert until >= e.t + e.params["duration_s"] - 1e-3
        assert e.params["monitor"] == (cam // wall.on_duty(e.t)) % s.operators.monitors_each


def test_each_monitor_shows_a_camera_whenever_its_operator_works(day) -> None:  # noqa: ANN001
    city, events = day
    s = city.scenario
    wall = Wall(s.operators, 450, s.simulation.start)  # type: ignore[arg-type]
    shown: Counter = Counter()
    for e in events:
        if e.kind == "live_view":
            shown[e.params["operator"], e.params["monitor"]] += e.params["duration_s"]
    for op in range(max(s.operators.on_duty)):
        works = sum(
            1 for t in range(86400)
            if op < wall.on_duty(t + 0.5) and wall.free_from(op, t + 0.5) == t + 0.5
        )  # fmt: skip
        for mon in range(s.operators.monitors_each):
            assert abs(shown[op, mon] - works) <= 100, (op, mon, shown[op, mon], works)


def test_no_action_while_its_operator_is_away_or_nobody_is_on_duty() -> None:
    busy = {f"{k}_per_camera_year": 100.0 for k in (
        "live_transfers", "reviews", "exports", "alarm_checks")}  # fmt: skip
    s = strasbourg(
        simulation={"days": 2, "start": "2026-06-19T01:45:30"},  # 03:00 is 4,470 s in
        operators={"on_duty": [0, 0, 0] + [2] * 10 + [1] * 11, "requests": busy},
    )  # fmt: skip
    events = action_events(City.of(s))
    wall = Wall(s.operators, 450, s.simulation.start)  # type: ignore[arg-type]
    waited = 0
    for e in events:
        op = e.params["operator"]
        t = begins(e) + (e.params["duration_s"] / 2 if e.kind == "live_view" else 1e-3)
        assert op < wall.on_duty(t), e
        assert wall.free_from(op, t) == t, e  # a fresh wall: only breaks make it wait
        waited += e.params.get("wait_s", 0.0) > 0
    assert waited > 20  # alarms did have to wait for a break, a colleague or the morning
    assert min(e.t for e in events) == 4470.0  # 03:00, when the first shift comes
    assert Counter(e.kind for e in events)["alarm"] > 30


def test_a_camera_subset_is_exactly_the_full_lists_actions_on_them(day) -> None:  # noqa: ANN001
    city, full = day
    chosen = city.select(shard="3/7")
    ids = {city.table.ids[i] for i in chosen}
    sub = action_events(city, chosen)
    assert [e.to_json() for e in sub] == [e.to_json() for e in full if e.camera in ids]
    assert {e.kind for e in sub} >= {"live_view", "live_transfer"}


def test_same_seed_same_actions_another_seed_others(day, reseed) -> None:  # noqa: ANN001
    city, events = day
    again = action_events(City.of(city.scenario))
    assert [e.to_json() for e in again] == [e.to_json() for e in events]
    other = action_events(City.of(reseed(city.scenario, 7)))
    requests = [e.to_json() for e in events if e.kind != "live_view"]
    assert [e.to_json() for e in other if e.kind != "live_view"] != requests


def test_the_watch_handled_the_requests_the_timeline_offers() -> None:
    s = strasbourg(simulation={"days": 14}, incidents={"days": 14},
                   operators={"dwell_s": 600})  # fmt: skip
    city = City.of(s)
    watch, duty = city_watch(city)  # type: ignore[misc]
    offered = sum(1 for e in action_events(city) if e.kind in REQUESTS)
    assert watch.days == 14 and duty.horizon_s == 14 * 86400
    assert 0 <= watch.requests - offered <= 3, (watch.requests, offered)  # begun after the end


def test_camsim_timeline_writes_the_actions(tmp_path: Path, day) -> None:  # noqa: ANN001
    city, events = day
    out = tmp_path / "t.jsonl"
    args = ["timeline", str(STRASBOURG), "--actions", "--days", "1", "--out", str(out)]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0, r.output
    written = [e for e in read_jsonl(out, city.names) if KINDS[e.kind].family == "action"]
    assert [e.to_json() for e in written] == [e.to_json() for e in events]
    r = CliRunner().invoke(main, [*args[:2], "--days", "1", "--out", str(out)])
    assert r.exit_code == 0
    assert not [e for e in read_jsonl(out) if KINDS[e.kind].family == "action"]


def test_chunks_do_not_change_the_schedule() -> None:
    """Generated an hour at a time (bounded memory), or in odd chunks, or all at once: the
    same list, with a dwell that does not divide the chunks."""
    city = City.of(strasbourg(operators={"dwell_s": 7.3, "break_every_min": 17}))
    whole = [e.to_json() for e in iter_action_events(city, chunk_s=86400)]
    assert [e.to_json() for e in iter_action_events(city, chunk_s=1000.1)] == whole
    assert [e.to_json() for e in action_events(city)] == whole


def test_a_simulation_longer_than_the_watch_runs_the_watch_longer() -> None:
    s = strasbourg(simulation={"days": 3}, incidents={"days": 1}, operators={"dwell_s": 600})
    city = City.of(s)
    watch, duty = city_watch(city)  # type: ignore[misc]
    assert watch.days == 3 and duty.horizon_s == 3 * 86400
    late = [e for e in action_events(city) if e.kind in REQUESTS and e.t > 2 * 86400]
    assert len(late) > 10


def test_a_city_without_operators_offers_no_actions(load) -> None:  # noqa: ANN001
    city = City.of(load("cbr_city"))
    assert city.scenario.operators is None
    assert action_events(city) == []
    assert not [e for e in build_timeline(city, actions=True) if KINDS[e.kind].family == "action"]
