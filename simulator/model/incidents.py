"""Street incidents: when and where something happens that an operator should see.

A non-homogeneous Poisson process, hour by hour: the scenario's rate per camera and day,
shaped by the hourly profile (normalised to mean 1) and raised on Friday and Saturday nights
(18:00 to 01:00), when violence peaks (REFERENCE: Bellis 2012). Each incident happens at one
camera, chosen uniformly, and stays visible for a lognormal time.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np

from simulator.scenario.watch import Incidents

HOUR = 3600.0


@dataclass
class IncidentSet:
    """Incidents sorted by start time (seconds from the simulation's start)."""

    start_s: np.ndarray
    camera: np.ndarray  # index into the camera table
    visible_s: np.ndarray
    hour: np.ndarray  # local hour of day of the start


def weekend_night(when: dt.datetime) -> bool:
    """Friday or Saturday from 18:00, until 01:00 the next morning."""
    day, hour = when.weekday(), when.hour
    return (day in (4, 5) and hour >= 18) or (day in (5, 6) and hour < 1)


def hourly_rates(inc: Incidents, cameras: int, first: dt.datetime, hours: int) -> np.ndarray:
    """Expected incidents in each whole clock hour from `first` (on the hour)."""
    profile = np.asarray(inc.hourly, dtype=float)
    mean = profile.mean()
    shape = profile / mean if mean > 0 else np.ones(24)
    rates = np.empty(hours)
    for j in range(hours):
        when = first + dt.timedelta(hours=j)
        boost = inc.weekend_night_factor if weekend_night(when) else 1.0
        rates[j] = cameras * inc.per_camera_day / 24.0 * shape[when.hour] * boost
    return rates


def draw_incidents(
    inc: Incidents, cameras: int, start: dt.datetime, rng: np.random.Generator
) -> IncidentSet:
    """Draw the incidents of `inc.days` days from `start`, clock hour by clock hour."""
    first = start.replace(minute=0, second=0, microsecond=0)
    before = (start - first).total_seconds()  # of the first clock hour, before the run
    duration = inc.days * 86400.0
    hours = math.ceil((before + duration) / HOUR)
    edges = np.clip(HOUR * np.arange(hours + 1) - before, 0.0, duration)
    spans = np.diff(edges)
    counts = rng.poisson(hourly_rates(inc, cameras, first, hours) * spans / HOUR)
    t = np.repeat(edges[:-1], counts) + rng.uniform(0.0, 1.0, counts.sum()) * np.repeat(
        spans, counts
    )
    order = np.argsort(t, kind="stable")
    t = t[order]
    n = len(t)
    cam = rng.integers(0, max(1, cameras), n)
    visible = inc.visible_median_s * np.exp(inc.visible_sigma * rng.standard_normal(n))
    hour = (first.hour + (before + t) // HOUR).astype(int) % 24
    return IncidentSet(t, cam, visible, hour)
