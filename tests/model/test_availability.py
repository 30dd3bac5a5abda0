"""Recording availability of failing cameras ≈ MTBF / (MTBF + MTTR), lost time blamed on them.

tests/data/reliability.yaml: 10 independent cameras, MTBF 20 h, MTTR 5 h (exponential), 60
simulated days (~58 failure/repair cycles per camera), nothing else fails, links and the
server far from full. Expected availability 20 / 25 = 0.8.

Statistics: each seeded replication gives one availability (the mean over its 10 cameras);
over R replications the 99 % confidence interval is mean ± t(0.995, R-1) · s / √R with s the
sample standard deviation. With R = 16 its half-width is about ±0.007 (the analytic
standard deviation of one camera's 60-day availability is √(2a²b²/((a+b)³T)) ≈ 0.030).
Cameras start in their stationary state (tests/model/test_stationary_start.py), so the only
known bias is a down interval widened to whole ticks (about one 60-s tick per failure,
-0.07 %), far inside the interval.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from simulator.model.city import City
from simulator.model.sizing import simulate
from simulator.model.world import world_events

MTBF_H, MTTR_H = 20.0, 5.0
REPLICATIONS = 16
CONFIDENCE = 0.99


@pytest.fixture(scope="module")
def replications(load):
    runs = [load("reliability", f"simulation.seed={seed}") for seed in range(REPLICATIONS)]
    return runs[0], [simulate(s) for s in runs]


def test_availability_matches_mtbf_over_mtbf_plus_mttr(replications):
    _, runs = replications
    av = np.array([r.recording.availability for r in runs])
    mean = av.mean()
    half = stats.t.ppf(0.5 + CONFIDENCE / 2, av.size - 1) * av.std(ddof=1) / math.sqrt(av.size)
    expected = MTBF_H / (MTBF_H + MTTR_H)
    assert mean - half <= expected <= mean + half, (
        f"availability {mean:.4f} ± {half:.4f} (99 % CI over {av.size} seeds) "
        f"excludes MTBF/(MTBF+MTTR) = {expected:.4f}"
    )
    # The interval is informative: narrower than ±0.02 around 0.8.
    assert half < 0.02


def test_lost_hours_are_attributed_to_the_camera(replications):
    s, runs = replications
    hours = s.camera_count * s.simulation.days * 24
    for r in runs:
        rec = r.recording
        assert rec.expected_hours == pytest.approx(hours)
        assert rec.lost_hours["camera"] == pytest.approx(rec.expected_hours - rec.recorded_hours)
        others = {k: v for k, v in rec.lost_hours.items() if k != "camera"}
        assert all(v == 0 for v in others.values()), others


def test_camera_lost_hours_equal_its_down_time(replications, reseed):
    """Lost hours equal the SimPy down intervals, widened to whole ticks (≤ 2 ticks each)."""
    s, runs = replications
    tick_h = s.simulation.resolution_s / 3600
    end_h = s.simulation.days * 24
    for seed in (0, 1):
        events = world_events(City.of(reseed(s, seed)))  # what simulate sized
        down_at: dict[str, float] = {}
        down_h, intervals = 0.0, 0
        for e in events:
            if e.kind == "camera_down":
                down_at[e.camera] = e.t / 3600
            elif e.kind == "camera_up" and e.camera in down_at:
                down_h += e.t / 3600 - down_at.pop(e.camera)
                intervals += 1
        down_h += sum(end_h - t for t in down_at.values())
        intervals += len(down_at)
        lost = runs[seed].recording.lost_hours["camera"]
        assert intervals > 400  # ~58 cycles × 10 cameras
        assert down_h <= lost + 1e-6
        assert lost <= down_h + 2 * tick_h * intervals


def test_server_failures_are_attributed_to_the_server(load):
    s = load(
        "reliability",
        "simulation.days=20",
        "cameras.0.reliability.mtbf_h=1.0e+12",
        "recording.servers.0.reliability.mtbf_h=20",
        "recording.servers.0.reliability.mttr_h=5",
    )
    r = simulate(s)
    rec = r.recording
    assert rec.lost_hours["camera"] == 0
    assert rec.lost_hours["server"] == pytest.approx(rec.expected_hours - rec.recorded_hours)
    # every camera is down exactly while the one server is down
    assert rec.lost_hours["server"] == pytest.approx(
        s.camera_count * r.servers[0].down_hours, rel=1e-9
    )
    assert 0.6 < rec.availability < 0.95


def test_a_cameras_world_does_not_depend_on_the_others(load) -> None:
    """Each camera, link and server draws from its own child of the seed tree: the world of
    some cameras is exactly the whole world's events that reach them."""
    city = City.of(load("outages"))
    whole = world_events(city)
    some = [1, 7]  # one camera in each district
    ids = {city.table.ids[i] for i in some}
    reach = [
        e for e in whole
        if e.camera in ids or e.link is not None and (
            e.link.kind == "core" or e.link.name in ids or e.link.name in {"n", "s"}
            and e.link.kind != "access"
        ) or e.server is not None or e.kind in ("night", "day")
    ]  # fmt: skip
    assert world_events(city, some) == reach
    assert len(reach) < len(whole) and sum(e.kind == "camera_down" for e in reach) > 4
