"""Motion recording keeps the expected fraction of time, and less than continuous recording.

Model (simulator/model/states.py): motion episodes start as a Poisson process of rate
λ = motion_episodes_per_h × 2 × activity per hour (so `motion_episodes_per_h` at activity
0.5), last an exponential time of mean m, and are recorded from `pre_s` before to `post_s`
after. Recorded intervals [s − pre, s + L + post] are then an M/G/∞ system, so a time point
is recorded with probability 1 − exp(−λ·(pre + m + post)). On a grid of ticks of length τ, a
tick is recorded when any interval overlaps it, which lengthens each interval by τ:

    expected recorded fraction = 1 − exp(−λ · (pre + m + post + τ)).

tests/data/motion.yaml sets the hourly activity to a constant 0.5 (district episodes off,
camera activity "medium"), 10 CBR cameras, pre 5 s, post 10 s, m = 30 s, 30 episodes/h.

Statistics: each seeded one-day replication gives a recorded fraction (10 cameras pooled);
the analytic value must lie in the 99 % confidence interval mean ± t(0.995, R−1)·s/√R over
R = 8 replications (half-width ≈ 0.005, i.e. ≈ 2 % of the fraction).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from simulator.model.sizing import simulate

REPLICATIONS = 8
PRE, POST, MEAN, PER_H = 5.0, 10.0, 30.0, 30.0


def expected_fraction(activity: float, tick: float) -> float:
    rate = PER_H * 2 * activity / 3600
    return 1 - math.exp(-rate * (PRE + MEAN + POST + tick))


@pytest.mark.parametrize("activity, resolution_s", [(0.5, 1), (0.5, 5), (1.0, 5), (0.25, 30)])
def test_motion_records_the_expected_fraction_of_time(load, reseed, activity, resolution_s):
    s = load(
        "motion",
        f"activity.hourly={[activity] * 24}",
        f"simulation.resolution_s={resolution_s}",
    )
    total_h = s.camera_count * s.simulation.days * 24
    fraction = []
    for seed in range(REPLICATIONS):
        r = simulate(reseed(s, seed))
        assert r.recording.recorded_hours == pytest.approx(r.recording.expected_hours)
        fraction.append(r.recording.expected_hours / total_h)
    f = np.array(fraction)
    half = stats.t.ppf(0.995, f.size - 1) * f.std(ddof=1) / math.sqrt(f.size)
    want = expected_fraction(activity, resolution_s)
    assert f.mean() - half <= want <= f.mean() + half, (
        f"recorded fraction {f.mean():.4f} ± {half:.4f} (99 % CI) excludes {want:.4f}"
    )
    assert half < 0.03 * want  # the interval is tight enough to mean something


def test_cbr_motion_storage_is_the_recorded_fraction_of_continuous(load):
    s = load("motion", "simulation.resolution_s=5")
    motion = simulate(s)
    continuous = simulate(
        load("motion", "simulation.resolution_s=5", "cameras.0.recording.mode=continuous")
    )
    total_h = s.camera_count * s.simulation.days * 24
    assert continuous.recording.expected_hours == pytest.approx(total_h)
    fraction = motion.recording.expected_hours / total_h
    assert 0.2 < fraction < 0.5
    assert motion.sizing.daily_write_tb == pytest.approx(
        fraction * continuous.sizing.daily_write_tb, rel=1e-6
    )
    assert motion.sizing.storage_needed_tb < continuous.sizing.storage_needed_tb
    # continuous: 10 cameras × 4 Mbps × 1 day
    assert continuous.sizing.daily_write_tb == pytest.approx(10 * 4e6 / 8 * 86400 / 1e12, rel=1e-6)


def test_vbr_continuous_stores_more_than_motion(load):
    base = (
        "simulation.resolution_s=5",
        "cameras.0.bitrate.mode=vbr",
        "cameras.0.sub_stream.enabled=true",
    )
    motion = simulate(load("motion", *base))
    continuous = simulate(load("motion", *base, "cameras.0.recording.mode=continuous"))
    assert continuous.sizing.daily_write_tb > 2 * motion.sizing.daily_write_tb
    assert continuous.sizing.storage_needed_tb > motion.sizing.storage_needed_tb
    assert all(
        c.storage_needed_tb > m.storage_needed_tb
        for c, m in zip(continuous.servers, motion.servers, strict=True)
    )


def test_motion_recording_off_records_nothing(load):
    r = simulate(load("motion", "simulation.resolution_s=60", "cameras.0.recording.mode='off'"))
    assert r.recording.expected_hours == 0
    assert r.sizing.daily_write_tb == 0
