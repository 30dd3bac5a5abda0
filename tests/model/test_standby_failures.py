"""Standbys fail like servers: never failed over to while down, and what that costs.

- On random up/down masks, at a zero delay the standbys recording at each tick are exactly
  min(servers unavailable, standbys up): no standby that is down records, none records two
  servers, none that is up and free is left idle while a server waits. With a delay, never
  more than that, and only for servers that are unavailable.
- A standby's own history is stationary: down MTTR / (MTBF + MTTR) of the time.
- One server and one standby with the same MTBF/MTTR, no delay: cameras are lost exactly when
  both are down, so the expected lost camera-hours are cameras × T × q², q the share of time
  each is down (independent histories, stationary starts). On the 60 s grid a down span is
  widened to whole ticks, one tick on average: q = (MTTR + tick) / (MTBF + MTTR). Checked
  over 8 one-year runs (seeds from the seed tree) within 4 standard errors of their mean
  (one run's spread is about 4 %, so the bound is about 6 %).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from simulator.model.failover import covered, runs, standby_up
from simulator.model.seeds import SeedTree
from simulator.model.sizing import simulate
from simulator.scenario.schema import Reliability
from tests.conftest import with_seed


def random_masks(rng: np.random.Generator, rows: int, ticks: int, p_down: float) -> np.ndarray:
    """(rows, ticks) bool, True where down: runs of random length, about p_down of the time."""
    out = np.zeros((rows, ticks), dtype=bool)
    for r in range(rows):
        t = 0
        while t < ticks:
            up, down = rng.geometric(1 / 40), rng.geometric(p_down / (1 - p_down) / 40)
            out[r, t + up : t + up + down] = True
            t += up + down
    return out


@pytest.mark.parametrize("seed", range(6))
def test_at_no_delay_as_many_servers_are_covered_as_standbys_are_up(seed) -> None:
    rng = np.random.default_rng(seed)
    servers, standbys = int(rng.integers(1, 6)), int(rng.integers(1, 4))
    unavailable = random_masks(rng, servers, 5000, 0.3)
    down = random_masks(rng, standbys, 5000, 0.3)
    cov, takeovers = covered(unavailable, list(~down), 0)
    assert not (cov & ~unavailable).any()
    want = np.minimum(unavailable.sum(axis=0), (~down).sum(axis=0))
    np.testing.assert_array_equal(cov.sum(axis=0), want)
    assert takeovers >= sum(len(runs(row)) for row in cov)  # a run may hold several


@pytest.mark.parametrize("seed", range(4))
def test_with_a_delay_never_more_than_the_standbys_up(seed) -> None:
    rng = np.random.default_rng(100 + seed)
    unavailable = random_masks(rng, 4, 5000, 0.3)
    down = random_masks(rng, 2, 5000, 0.3)
    cov, _ = covered(unavailable, list(~down), 7)
    assert not (cov & ~unavailable).any()
    assert (cov.sum(axis=0) <= (~down).sum(axis=0)).all()
    assert cov.sum() < np.minimum(unavailable.sum(axis=0), (~down).sum(axis=0)).sum()
    # no outage is covered in its first 7 ticks
    starts = np.flatnonzero(np.diff(np.concatenate([[0], unavailable[0].astype(int)])) == 1)
    assert not any(cov[0, a : a + 7].any() for a in starts)


def test_a_standby_is_down_its_stationary_share_of_the_time() -> None:
    rel, tick = Reliability(mtbf_h=4.0, mttr_h=1.0), 60
    ups = [standby_up(rel, tick, 365 * 1440, SeedTree(5).generator("world", "standby", k))
           for k in range(4)]  # fmt: skip
    down = 1 - float(np.mean(ups))
    q = (rel.mttr_h + tick / 3600) / (rel.mtbf_h + rel.mttr_h)
    # 4 × 1,750 cycles a year: the share's standard error is about 0.002
    assert down == pytest.approx(q, abs=0.008)


MTBF_H, MTTR_H, TICK_S = 4.0, 1.0, 60
ONE_SERVER = (
    f"recording.servers=[{{name: rec, count: 1, reliability: {{mtbf_h: {MTBF_H}, "
    f"mttr_h: {MTTR_H}}}}}]"
)


def test_one_standby_loses_the_hours_both_are_down(load) -> None:
    scenario = load(
        "cbr_city", ONE_SERVER, "simulation.days=365", f"simulation.resolution_s={TICK_S}",
        "simulation.frame_window_s=1", "recording.failover.standby=1",
        "recording.failover.delay_s=0",
    )  # fmt: skip
    tree = SeedTree(scenario.simulation.seed)
    lost = []
    for k in range(8):
        r = simulate(with_seed(scenario, tree.integer("replications", k)))
        assert r.resilience.failovers > 1000
        lost.append(r.recording.lost_hours["server"])
    q = (MTTR_H + TICK_S / 3600) / (MTBF_H + MTTR_H)
    cameras, hours = 5, 365 * 24
    want = cameras * hours * q * q
    mean, se = float(np.mean(lost)), float(np.std(lost, ddof=1)) / math.sqrt(len(lost))
    assert abs(mean - want) < 4 * se, (mean, want, se)
    assert 4 * se < 0.08 * want  # the test is tight enough to mean something
    # without a standby the server's own downtime is lost: 1/q times more
    alone = simulate(
        load(
            "cbr_city",
            ONE_SERVER,
            "simulation.days=365",
            f"simulation.resolution_s={TICK_S}",
            "simulation.frame_window_s=1",
        )
    )
    assert alone.recording.lost_hours["server"] == pytest.approx(cameras * hours * q, rel=0.05)
