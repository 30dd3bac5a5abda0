"""Stream faults (SimPy): deterministic from the seed tree, rates as configured, per camera."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from simulator.model.city import City
from simulator.model.stream_faults import stream_fault_events
from simulator.scenario import load_scenario
from simulator.timeline import KINDS

STRASBOURG = Path(__file__).parents[2] / "scenarios" / "strasbourg.yaml"


def city(*overrides: str) -> City:
    return City.of(load_scenario(STRASBOURG, overrides))


def test_same_seed_same_events_and_sorted() -> None:
    a = stream_fault_events(city("simulation.seed=5"))
    b = stream_fault_events(city("simulation.seed=5"))
    c = stream_fault_events(city("simulation.seed=6"))
    assert a == b and [e.params for e in a] == [e.params for e in b]
    assert a != c
    assert [e.t for e in a] == sorted(e.t for e in a)
    assert all(KINDS[e.kind].family == "stream" for e in a)


def test_rates_match_the_scenario() -> None:
    c = city("simulation.days=4", "faults.freeze_per_camera_day=1", "faults.freeze_mean_s=10",
             "faults.reconnect_storms_per_district_day=2")  # fmt: skip
    events = stream_fault_events(c)
    counts = Counter(e.kind for e in events)
    expected = 450 * 4 * 1.0
    assert abs(counts["stream_freeze"] - expected) < 5 * expected**0.5  # Poisson, 5 sigma
    storms = 12 * 4 * 2
    assert abs(counts["reconnect_storm"] - storms) < 5 * storms**0.5
    freezes = [e.params["duration_s"] for e in events if e.kind == "stream_freeze"]
    assert 8 < np.mean(freezes) < 12
    assert all(e.camera for e in events if e.kind != "reconnect_storm")
    assert all(e.district for e in events if e.kind == "reconnect_storm")
    assert all(0 <= e.t < 4 * 86400 for e in events)


def test_zero_rates_switch_kinds_off() -> None:
    names = ["freeze", "frame_drops", "packet_loss", "jitter", "bitrate_spike", "clock_jumps"]
    off = [f"faults.{n}_per_camera_day=0" for n in names] + [
        "faults.reconnect_storms_per_district_day=0"
    ]
    assert stream_fault_events(city(*off)) == []


def test_a_cameras_faults_do_not_depend_on_the_others() -> None:
    """Each camera draws from its own child of the seed tree: serving 20 cameras replays
    exactly what the whole city's timeline holds for them."""
    c = city("faults.jitter_per_camera_day=3")
    whole = stream_fault_events(c)
    some = [3, 17, 200]
    ids = {c.table.ids[i] for i in some}
    districts = {c.district_of(i) for i in some}
    mine = [e for e in whole if e.camera in ids or e.district in districts]
    assert stream_fault_events(c, some) == mine and len(mine) > 9
