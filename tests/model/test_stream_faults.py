"""Stream faults (SimPy): deterministic from the seed, rates as configured, merged timeline."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
from click.testing import CliRunner

from simulator.cli import main
from simulator.model.stream_faults import stream_fault_events, timeline_events
from simulator.scenario import load_scenario
from simulator.timeline import KINDS, Event

STRASBOURG = Path(__file__).parents[2] / "scenarios" / "strasbourg.yaml"


def scenario(*overrides: str):  # noqa: ANN201
    return load_scenario(STRASBOURG, overrides)


def test_same_seed_same_events_and_sorted() -> None:
    s = scenario()
    a = stream_fault_events(s, np.random.default_rng(5))
    b = stream_fault_events(s, np.random.default_rng(5))
    c = stream_fault_events(s, np.random.default_rng(6))
    assert a == b and [e.params for e in a] == [e.params for e in b]
    assert a != c
    assert [e.t for e in a] == sorted(e.t for e in a)
    assert all(e.kind in KINDS for e in a)


def test_rates_match_the_scenario() -> None:
    s = scenario("simulation.days=4", "faults.freeze_per_camera_day=1", "faults.freeze_mean_s=10",
                 "faults.reconnect_storms_per_district_day=2")  # fmt: skip
    events = stream_fault_events(s, np.random.default_rng(1))
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
    assert stream_fault_events(scenario(*off), np.random.default_rng(1)) == []


def test_timeline_merges_the_discrete_world() -> None:
    s = scenario("cameras.0.reliability.mtbf_h=10")
    events = timeline_events(s, seed=3)
    kinds = Counter(e.kind for e in events)
    assert kinds["camera_down"] > 0 and kinds["night"] >= 1 and kinds["jitter"] > 0
    assert [e.t for e in events] == sorted(e.t for e in events)
    assert timeline_events(s, seed=3) == events
    # Stream-fault rates do not change the discrete world's events.
    other = timeline_events(
        scenario("cameras.0.reliability.mtbf_h=10", "faults.jitter_per_camera_day=3"), seed=3
    )
    world = {"camera_down", "camera_up", "night", "day", "activity", "link_down", "link_up"}
    assert [e for e in other if e.kind in world] == [e for e in events if e.kind in world]


def test_camsim_timeline_writes_json_lines(tmp_path: Path) -> None:
    out = tmp_path / "t.jsonl"
    r = CliRunner().invoke(main, ["timeline", str(STRASBOURG), "--out", str(out), "--seed", "4",
                                  "--set", "faults.jitter_per_camera_day=2"])  # fmt: skip
    assert r.exit_code == 0, r.output
    lines = out.read_text().splitlines()
    events = [Event.from_json(line) for line in lines]
    assert events and all(json.loads(line)["kind"] in KINDS for line in lines)
    assert sum(e.kind == "jitter" for e in events) > 450
    r2 = CliRunner().invoke(main, ["timeline", str(STRASBOURG), "--seed", "4",
                                   "--set", "faults.jitter_per_camera_day=2"])  # fmt: skip
    assert r2.output.splitlines() == lines


def test_camsim_timeline_bad_input_is_one_line_exit_2(tmp_path: Path) -> None:
    r = CliRunner().invoke(main, ["timeline", str(STRASBOURG), "--set", "faults.jitter_ms=-3"])
    assert (
        r.exit_code == 2
        and "faults.jitter_ms" in r.output
        and len(r.output.strip().splitlines()) == 1
    )
    r = CliRunner().invoke(main, ["timeline", str(tmp_path / "missing.yaml")])
    assert r.exit_code == 2
