"""The soak profile (scenarios/soak.yaml) gives a short lab run every fault kind at the rates
it states: counts in the timeline of its first 10 cameras over two days against rate × time
(Poisson, within 4 standard deviations), and outages of the stated mean length."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from simulator.model.city import City
from simulator.model.timeline import build_timeline
from simulator.scenario import load_scenario
from tests.conftest import SCENARIOS

CAMERAS, DAYS = 10, 2.0


@pytest.fixture(scope="module")
def soak():
    scenario = load_scenario(SCENARIOS / "soak.yaml", (f"simulation.days={DAYS:g}",))
    city = City.of(scenario)
    return scenario, build_timeline(city, range(CAMERAS))


def _within_poisson(seen: int, expected: float) -> bool:
    return abs(seen - expected) <= 4 * np.sqrt(expected)


def test_every_stream_fault_comes_at_its_rate(soak) -> None:
    scenario, events = soak
    f = scenario.faults
    per_camera = {
        "stream_freeze": f.freeze_per_camera_day,
        "frame_drops": f.frame_drops_per_camera_day,
        "packet_loss": f.packet_loss_per_camera_day,
        "jitter": f.jitter_per_camera_day,
        "bitrate_spike": f.bitrate_spike_per_camera_day,
        "clock_jump": f.clock_jumps_per_camera_day,
    }
    seen = Counter(e.kind for e in events)
    for kind, rate in per_camera.items():
        expected = rate * CAMERAS * DAYS
        assert expected / DAYS / 24 >= 1.5, f"{kind}: under 1.5 an hour on {CAMERAS} cameras"
        assert _within_poisson(seen[kind], expected), (kind, seen[kind], expected)
    # the first 10 cameras are all in one district: its storms
    storms = f.reconnect_storms_per_district_day * DAYS
    assert _within_poisson(seen["reconnect_storm"], storms), (seen["reconnect_storm"], storms)


def test_camera_outages_are_frequent_and_short(soak) -> None:
    scenario, events = soak
    rel = scenario.cameras[0].reliability
    down: dict[str, float] = {}
    lengths = []
    for e in events:
        if e.kind == "camera_down":
            down[e.camera] = e.t
        elif e.kind == "camera_up" and e.camera in down:
            lengths.append(e.t - down.pop(e.camera))
    cycles = CAMERAS * DAYS * 24 / (rel.mtbf_h + rel.mttr_h)
    assert _within_poisson(len(lengths), cycles), (len(lengths), cycles)
    # the mean of n exponential repair times: relative sd 1/sqrt(n); 4 sd
    mean_h = np.mean(lengths) / 3600
    assert mean_h == pytest.approx(rel.mttr_h, rel=4 / np.sqrt(len(lengths)))
