"""Replications: the same scenario under independent seeds, and each key figure's mean with its
Student-t confidence interval.

Replication k runs with the seed `SeedTree(seed).integer("replications", k)`: children of the
scenario's seed, so a replication set is reproducible from the scenario alone and its members
are independent streams (SeedSequence spawning), never seeds picked by hand.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from simulator.model.results import Results
from simulator.model.seeds import SeedTree
from simulator.scenario.schema import Scenario

LEVEL = 0.95


def replication_seeds(seed: int, count: int) -> list[int]:
    """The seeds of `count` replications of a scenario whose seed is `seed`."""
    tree = SeedTree(seed)
    return [tree.integer("replications", k) for k in range(count)]


def replicate(scenario: Scenario, count: int) -> list[Scenario]:
    """The scenario once per replication seed."""
    sim = scenario.simulation
    return [
        scenario.model_copy(update={"simulation": sim.model_copy(update={"seed": s})})
        for s in replication_seeds(sim.seed, count)
    ]


@dataclass(frozen=True)
class ConfidenceInterval:
    """A figure's mean over replications and its confidence interval."""

    mean: float
    low: float
    high: float
    sd: float  # sample standard deviation over the replications
    n: int
    level: float = LEVEL

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2

    def covers(self, value: float) -> bool:
        return self.low <= value <= self.high

    def within(self, lo: float, hi: float) -> ConfidenceInterval:
        """The interval cut to the figure's possible range [lo, hi] (a t interval around a
        mean near a bound can reach past it: availability above 100 %, negative hours)."""
        return ConfidenceInterval(self.mean, max(lo, self.low), min(hi, self.high), self.sd,
                                  self.n, self.level)  # fmt: skip


def t_interval(values: Sequence[float], level: float = LEVEL) -> ConfidenceInterval:
    """Mean ± t(level, n - 1) · sd / √n (NaN bounds from fewer than two values)."""
    x = np.asarray(values, dtype=float)
    n = x.size
    mean = float(x.mean()) if n else math.nan
    if n < 2:
        return ConfidenceInterval(mean, math.nan, math.nan, math.nan, n, level)
    sd = float(x.std(ddof=1))
    half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * sd / math.sqrt(n)
    return ConfidenceInterval(mean, mean - half, mean + half, sd, n, level)


def _worst_link(r: Results, attr: str) -> float:
    return max((getattr(lk, attr) for lk in r.links), default=math.nan)


def _watch(attr: str) -> Callable[[Results], float]:
    def get(r: Results) -> float:
        return math.nan if r.watch is None else float(getattr(r.watch, attr))

    return get


# name → (label, how to read it from one run); fractions stay fractions
KEY_FIGURES: dict[str, tuple[str, Callable[[Results], float]]] = {
    "storage_needed_tb": ("storage needed (TB)", lambda r: r.sizing.storage_needed_tb),
    "servers_needed": ("recording servers needed", lambda r: r.sizing.servers_needed),
    "daily_write_tb": ("daily write (TB)", lambda r: r.sizing.daily_write_tb),
    "availability": ("recording availability %", lambda r: r.recording.availability),
    "lost_camera_hours": (
        "lost camera-hours",
        lambda r: sum(r.recording.lost_hours.values()),
    ),
    "busiest_link_p99_util": ("busiest link p99 util %", lambda r: _worst_link(r, "p99_util")),
    "worst_link_loss": ("worst link loss %", lambda r: _worst_link(r, "loss_fraction")),
    "end_to_end_p99_ms": ("end-to-end p99 (ms)", lambda r: r.window.end_to_end_p99_ms),
    "incidents": ("incidents", _watch("incidents")),
    "detected_share": ("incidents detected %", _watch("detected_share")),
    "detected_per_year": ("incidents detected per year", _watch("detected_per_year")),
}


# the possible range of each key figure (others: never negative)
RANGES: dict[str, tuple[float, float]] = {
    "availability": (0.0, 1.0),
    "worst_link_loss": (0.0, 1.0),
    "detected_share": (0.0, 1.0),
}


def key_figures(r: Results) -> dict[str, float]:
    """The key figures of one run (those that are not finite, e.g. without operators, left
    out)."""
    out = {name: float(get(r)) for name, (_, get) in KEY_FIGURES.items()}
    return {k: v for k, v in out.items() if math.isfinite(v)}


@dataclass
class Replications:
    """Key figures over independent replications of one scenario."""

    seed: int  # the scenario's seed, parent of the replications'
    seeds: list[int]
    figures: dict[str, ConfidenceInterval]  # name (a key of KEY_FIGURES) → interval
    values: dict[str, list[float]]  # name → one value per replication, in seed order


def summarize(seed: int, results: Sequence[Results], level: float = LEVEL) -> Replications:
    """Each key figure present in every replication, with its t interval (cut to the
    figure's possible range)."""
    per_run = [key_figures(r) for r in results]
    names = [k for k in KEY_FIGURES if all(k in f for f in per_run)]
    values = {k: [f[k] for f in per_run] for k in names}
    return Replications(
        seed=seed,
        seeds=[r.seed for r in results],
        figures={
            k: t_interval(v, level).within(*RANGES.get(k, (0.0, math.inf)))
            for k, v in values.items()
        },
        values=values,
    )


def differences(
    base: Replications, other: Replications, level: float = LEVEL
) -> dict[str, ConfidenceInterval]:
    """other − base for each figure both have, as a paired t interval: replication k of both
    ran from the same seed (common random numbers), so the pairs' differences are what vary."""
    if base.seeds != other.seeds:
        raise ValueError("paired differences need the same replication seeds on both sides")
    names = [k for k in base.figures if k in other.figures]
    return {k: t_interval(np.subtract(other.values[k], base.values[k]), level) for k in names}
