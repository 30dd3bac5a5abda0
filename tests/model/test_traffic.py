"""The per-second scene term of `Traffic.rates` against its definition: a stationary AR(1)
whose values are Gaussian (log of a lognormal factor of mean 1), whatever its innovations.

200 steady VBR cameras (activity factor 1, daytime) for 20,000 s: 4 million values, about
40,000 independent ones at φ = 0.98. Tolerances are several standard errors of each estimate.
"""

from __future__ import annotations

import numpy as np
import pytest

from simulator.model.cameras import camera_table
from simulator.model.seeds import SeedTree
from simulator.model.traffic import AR_PHI, GOP_COV, Traffic

CAMERAS, SECONDS = 200, 20_000
SIGMA = float(np.sqrt(np.log1p(GOP_COV**2)))


@pytest.fixture(scope="module")
def log_factor(load) -> np.ndarray:
    """log(rate / target) of each camera and second, in two chunks (the state carried)."""
    table = camera_table(load("asu-parking-lot", f"cameras.0.count={CAMERAS}"))
    tree = SeedTree(7)
    traffic = Traffic(table, tree.generator("traffic", "state"))
    half = SECONDS // 2
    activity = np.full((CAMERAS, half), 0.5, dtype=np.float32)  # bitrate factor 1.0
    day = np.zeros(half, bool)
    parts = [traffic.rates(activity, day, tree.generator("traffic", k))[0] for k in range(2)]
    rate = np.concatenate(parts, axis=1).astype(np.float64)
    return np.log(rate / (table.main_mbps[:, None] * 1e6))


def test_mean_factor_is_one(log_factor: np.ndarray) -> None:
    """E[exp(x)] = 1 (bitrate × time holds on average): 1 ± 0.003 (se 0.0006; the VBR cap,
    3.4 σ above the mean, takes about 1e-5)."""
    assert np.exp(log_factor).mean() == pytest.approx(1.0, abs=0.003)


def test_spread_is_the_gop_cov(log_factor: np.ndarray) -> None:
    """sd of log(factor) = sqrt(log(1 + 0.12²)) ± 2 % (se about 0.4 %)."""
    assert log_factor.std() == pytest.approx(SIGMA, rel=0.02)


def test_memory_is_phi(log_factor: np.ndarray) -> None:
    """Lag-1 autocorrelation φ = 0.98 ± 0.003."""
    x = log_factor - log_factor.mean()
    lag1 = (x[:, 1:] * x[:, :-1]).mean() / (x * x).mean()
    assert lag1 == pytest.approx(AR_PHI, abs=0.003)


def test_values_are_gaussian(log_factor: np.ndarray) -> None:
    """Excess kurtosis 0 ± 0.15 and skewness 0 ± 0.1 (ses about 0.05 and 0.02; uniform
    innovations give 0.02 and 0, the innovations themselves −1.2 and 0)."""
    z = (log_factor - log_factor.mean()) / log_factor.std()
    assert abs(float((z**4).mean()) - 3) < 0.15
    assert abs(float((z**3).mean())) < 0.1
