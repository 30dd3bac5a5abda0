"""Replications: seeds from the seed tree, and t intervals that cover the true mean at their
nominal rate."""

from __future__ import annotations

import math

import numpy as np
import pytest

from simulator.model.replications import (
    RANGES,
    differences,
    replicate,
    replication_seeds,
    summarize,
    t_interval,
)
from simulator.model.seeds import SeedTree
from simulator.model.sizing import simulate

# tests/data/incidents_city.yaml: incidents ~ Poisson(5 cameras × 2 a day × 10 days)
TRUE_MEAN = 100.0
SETS, PER_SET = 200, 5  # 200 intervals, each from 5 replications: 1,000 runs of ~0.04 s
# Covered intervals ~ Binomial(200, 0.95): mean 190, sd 3.1. Accept 180..198, which holds
# with probability 0.998 for correct intervals (P(K < 180) = 0.0012, P(K > 198) = 0.0004);
# z instead of t (coverage 0.88), or sd/n instead of sd/√n, falls below.
LOW, HIGH = 180, 198


def test_replication_seeds_are_children_of_the_scenario_seed():
    seeds = replication_seeds(2023, 4)
    assert seeds == [SeedTree(2023).integer("replications", k) for k in range(4)]
    assert len(set(seeds)) == 4 and 2023 not in seeds
    assert replication_seeds(2023, 6)[:4] == seeds  # more replications keep the first ones
    assert replication_seeds(2024, 4) != seeds


def test_t_interval_against_scipy_and_by_hand():
    x = [1.0, 2.0, 4.0, 7.0]
    iv = t_interval(x)
    half = 3.182446305284263 * np.std(x, ddof=1) / 2  # t(0.975, 3) · sd / √4
    assert iv.mean == pytest.approx(3.5)
    assert (iv.low, iv.high) == pytest.approx((3.5 - half, 3.5 + half), rel=1e-12)
    assert math.isnan(t_interval([5.0]).low)


def test_an_interval_near_a_bound_is_cut_to_the_figures_range():
    iv = t_interval([1.0, 1.0, 0.99]).within(0.0, 1.0)  # availability: t interval up to 1.011
    assert iv.high == 1.0 and iv.low < iv.mean < 1.0 and iv.covers(1.0)
    assert t_interval([0.0, 0.0, 3.0]).within(0.0, math.inf).low == 0.0  # lost hours


def test_intervals_cover_the_true_mean_at_their_nominal_rate(load):
    scenario = load("incidents_city")
    runs = replicate(scenario, SETS * PER_SET)
    counts = [simulate(s).watch.incidents for s in runs]
    assert np.mean(counts) == pytest.approx(TRUE_MEAN, rel=0.02)  # 1,000 draws: sd 0.3 %
    covered = 0
    for k in range(SETS):
        iv = t_interval(counts[k * PER_SET : (k + 1) * PER_SET])
        covered += iv.covers(TRUE_MEAN)
    assert LOW <= covered <= HIGH, covered


def test_summarize_gives_every_key_figure_of_every_replication(load):
    scenario = load("incidents_city")
    results = [simulate(s) for s in replicate(scenario, 3)]
    rep = summarize(scenario.simulation.seed, results)
    assert rep.seeds == replication_seeds(scenario.simulation.seed, 3)
    assert {"storage_needed_tb", "servers_needed", "lost_camera_hours", "detected_share"} <= set(
        rep.figures
    )
    inc = rep.figures["incidents"]
    assert inc.n == 3 and inc.mean == pytest.approx(np.mean([r.watch.incidents for r in results]))
    # CBR storage does not vary between replications: a zero-width interval
    storage = rep.figures["storage_needed_tb"]
    assert storage.sd == pytest.approx(0, abs=1e-9) and storage.half_width == pytest.approx(0)
    for name, iv in rep.figures.items():  # never past what the figure can be
        lo, hi = RANGES.get(name, (0.0, math.inf))
        assert lo <= iv.low <= iv.mean <= iv.high <= hi, (name, iv)


def test_paired_differences_are_significant_only_where_the_scenarios_differ(load):
    base_s = load("incidents_city")
    other_s = load("incidents_city", "incidents.per_camera_day=4")  # twice the incidents
    base = summarize(17, [simulate(s) for s in replicate(base_s, 4)])
    other = summarize(17, [simulate(s) for s in replicate(other_s, 4)])
    same = summarize(17, [simulate(s) for s in replicate(base_s, 4)])
    diff = differences(base, other)
    assert diff["incidents"].low > 0  # +100 expected, sd of a pair's difference ~17
    assert diff["incidents"].covers(TRUE_MEAN)
    assert diff["storage_needed_tb"].covers(0.0)  # the sizing part is the same city
    assert all(d.covers(0.0) and d.half_width == 0 for d in differences(base, same).values())
