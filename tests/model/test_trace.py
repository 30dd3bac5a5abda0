"""The model's frames against a real trace: the ASU "Parking Lot Cam", MPEG-4, high quality.

Published figures (REFERENCE.md; Fitzek & Reisslein's trace library, statistics page
trace.eas.asu.edu/TRACE/pics/FrameStat/stat448e.html, read at its mirror
https://cnets.io/traces.cnets.io/trace.eas.asu.edu/TRACE/pics/FrameStat/stat448e.html): one
hour, 89,998 frames at 25 frames/s, 7,499 GoPs of 12 frames, 790 kbit/s; frame CoV 0.70, frame
peak/mean 3.52 (there: peak over mean frame bit rate, i.e. largest frame over mean frame,
13,851 B / ~3,930 B), GoP CoV 0.12, GoP peak/mean 1.27 (60,011 B over ~47,200 B), Hurst (R/S)
0.85-1.01 at aggregation levels 12-800 frames.

tests/data/asu-parking-lot.yaml configures one camera like it. Its frames come from the model's
own path: `Traffic.rates` (per-second scene term) then `window_frames` (the frame-level window's
frames), for a steady hour (activity factor 1, daytime), once per replication seed.

Tolerances: the trace is *one* hour, so each published figure carries one hour's sampling error.
The model's figures are computed per hour over HOURS hours; the test takes their mean (error
≈ sd/√10, small) and allows about two one-hour standard deviations of the model (measured over
20 hours by `python -m tests.model.test_trace 20`: frame CoV 0.003, frame peak/mean 0.12, GoP
CoV 0.011, GoP peak/mean 0.058, Hurst 0.006) plus the rounding of the published figure (0.005).
On the model before it had B-frames (IP-only, I = 5 P, frame noise CoV 0.25, frames not summed
per second) the same hours gave frame CoV 0.90, frame peak/mean 9.3, GoP CoV 0.150, GoP
peak/mean 1.70, Hurst 0.92: the first three fail. Frame CoV and frame peak/mean are fitted
(the scenario's I:P:B ratios were chosen on a coarse grid for them), so their check is that the
fit holds through the real code path; GoP CoV and the Hurst parameter are not fitted.
"""

from __future__ import annotations

import numpy as np
import pytest

from simulator.model.cameras import camera_table
from simulator.model.replications import replication_seeds
from simulator.model.seeds import SeedTree
from simulator.model.traffic import Traffic
from simulator.model.window import window_frames
from simulator.scenario import Scenario

HOURS = 10
SECONDS = 3600
GOP = 12
LEVELS = (12, 24, 48, 96, 192, 384, 768)  # frames; within the trace's R/S levels 12-800


def _one_hour(table, seed: int) -> np.ndarray:
    """The camera's frame sizes over one steady hour, in send order."""
    tree = SeedTree(seed)
    traffic = Traffic(table, tree.generator("traffic", "state"))
    activity = np.full((len(table), SECONDS), 0.5, dtype=np.float32)  # bitrate factor 1.0
    main, sub = traffic.rates(activity, np.zeros(SECONDS, bool), tree.generator("traffic", 0))
    frames = window_frames(table, main, sub, 0.0, tree.generator("window"))
    return frames.size[np.argsort(frames.send, kind="stable")]


def _hurst(x: np.ndarray) -> float:
    """Aggregated-variance estimate: Var(mean of m frames) ∝ m^(2H-2) over LEVELS."""
    var = [x[: x.size // m * m].reshape(-1, m).mean(axis=1).var() for m in LEVELS]
    return 1 + np.polyfit(np.log(LEVELS), np.log(var), 1)[0] / 2


def _figures(x: np.ndarray) -> dict[str, float]:
    """The trace page's statistics of one hour of frames. Any 12 consecutive frames hold one
    GoP's frame types, so GoPs are cut from the first frame whatever its type."""
    gops = x[: x.size // GOP * GOP].reshape(-1, GOP).sum(axis=1)
    return {
        "mean_kbps": x.mean() * 8 * 25 / 1e3,
        "frame_cov": x.std() / x.mean(),
        "frame_peak": x.max() / x.mean(),
        "gop_cov": gops.std() / gops.mean(),
        "gop_peak": gops.max() / gops.mean(),
        "hurst": _hurst(x),
    }


def hourly_figures(scenario: Scenario, hours: int) -> list[dict[str, float]]:
    """The figures of each of `hours` one-hour realisations (the replication seeds')."""
    table = camera_table(scenario)
    seeds = replication_seeds(scenario.simulation.seed, hours)
    return [_figures(_one_hour(table, s)) for s in seeds]


@pytest.fixture(scope="module")
def model(load) -> dict[str, float]:
    """Each figure's mean over HOURS one-hour realisations."""
    hours = hourly_figures(load("asu-parking-lot"), HOURS)
    return {k: float(np.mean([h[k] for h in hours])) for k in hours[0]}


def test_mean_rate_is_the_traces(model: dict[str, float]) -> None:
    """790 kbit/s ± 3 %: one-hour sd 2.5 %, over 10 hours 0.8 % (the scene term's ~50 s memory)."""
    assert model["mean_kbps"] == pytest.approx(790, rel=0.03)


def test_frame_cov(model: dict[str, float]) -> None:
    """0.70 ± 0.03: one-hour sd 0.003, rounding 0.005, the coarse fit's miss (0.686)."""
    assert model["frame_cov"] == pytest.approx(0.70, abs=0.03)


def test_frame_peak_to_mean(model: dict[str, float]) -> None:
    """3.52 ± 0.25: a maximum over 90,000 frames, one-hour sd 0.12."""
    assert model["frame_peak"] == pytest.approx(3.52, abs=0.25)


def test_gop_cov(model: dict[str, float]) -> None:
    """0.12 ± 0.025: one-hour sd 0.011 (the scene term's ~50 s memory leaves ~70 independent
    stretches in an hour), rounding 0.005."""
    assert model["gop_cov"] == pytest.approx(0.12, abs=0.025)


@pytest.mark.xfail(
    strict=True,
    reason="the per-second scene term (Traffic.rates: lognormal AR(1), ~50 s memory, capped at "
    "1.5) peaks at 1.46 ± 0.06 of its mean in an hour; the trace's GoPs are left-skewed (min "
    "0.60, max 1.27 of the mean). Frames cannot fix it: a GoP is half a second's bytes.",
)
def test_gop_peak_to_mean(model: dict[str, float]) -> None:
    """1.27 ± 0.1: one-hour sd 0.058."""
    assert model["gop_peak"] == pytest.approx(1.27, abs=0.1)


def test_hurst(model: dict[str, float]) -> None:
    """Trace: 0.9-1.0 (R/S). Accepted 0.85-1.05: another estimator (aggregated variance) over
    the same aggregation levels, each biased by a few hundredths on one hour of data."""
    assert 0.85 <= model["hurst"] <= 1.05


TRACE = {"mean_kbps": "790", "frame_cov": "0.70", "frame_peak": "3.52", "gop_cov": "0.12",
         "gop_peak": "1.27", "hurst": "0.9-1.0"}  # fmt: skip

if __name__ == "__main__":  # python -m tests.model.test_trace [hours]: the README's table
    import sys

    from tests.conftest import load_data_scenario

    runs = hourly_figures(load_data_scenario("asu-parking-lot"), int((sys.argv[1:] or [HOURS])[0]))
    print(f"{'figure':<11} {'trace':>8} {'model mean':>11} {'1-hour sd':>10}  ({len(runs)} hours)")
    for key, trace in TRACE.items():
        v = np.array([h[key] for h in runs])
        print(f"{key:<11} {trace:>8} {v.mean():>11.3f} {v.std(ddof=1):>10.3f}")
