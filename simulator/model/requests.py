"""Requests: the work that takes an operator away from the wall (live transfers to the
police, reviews after a complaint, exports on requisition, alarm checks), at the scenario's
rates per camera and year (Strasbourg's 2016 figures): Poisson, uniform over the day, with
exponential durations (assumptions, docs/defaults.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.scenario.watch import Requests

#: The requests' kinds, in the order they are drawn (their timeline kinds).
REQUEST_KINDS = ("live_transfer", "review", "export", "alarm")


@dataclass
class RequestSet:
    """Requests sorted by arrival (seconds from the start): their kind (index into
    REQUEST_KINDS), how long they keep an operator (s) and an operator draw (0..1)."""

    t: np.ndarray
    span_s: np.ndarray
    who: np.ndarray
    kind: np.ndarray


def draw_requests(req: Requests, cameras: int, days: float, rng: np.random.Generator) -> RequestSet:
    """The requests of `days` days: Poisson, uniform over the day, exponential durations."""
    kinds = (
        (req.live_transfers_per_camera_year, req.live_transfer_min),
        (req.reviews_per_camera_year, req.review_min),
        (req.exports_per_camera_year, req.export_min),
        (req.alarm_checks_per_camera_year, req.alarm_check_min),
    )
    times, spans, codes = [], [], []
    for code, (per_year, minutes) in enumerate(kinds):
        n = rng.poisson(per_year * cameras * days / 365.0)
        times.append(rng.uniform(0.0, days * 86400.0, n))
        spans.append(rng.exponential(minutes * 60.0, n))
        codes.append(np.full(n, code, dtype=np.int8))
    t, span, code = np.concatenate(times), np.concatenate(spans), np.concatenate(codes)
    order = np.argsort(t, kind="stable")
    return RequestSet(t[order], span[order], rng.uniform(0.0, 1.0, len(t)), code[order])
