"""The operators' table: what they saw of the street incidents, with the supervision limits
flagged."""

from __future__ import annotations

import math

from simulator.model.operators import detection_probability
from simulator.model.results import Results
from simulator.report.checks import (
    CAMERAS_PER_OPERATOR,
    HOURS_UNWATCHED,
    MAX_CAMERAS_PER_OPERATOR,
    MAX_MONITORS_PER_OPERATOR,
    MONITORS_EACH,
    watch_checks,
)
from simulator.report.text import Table, count, duration, num, pct


def share(part: float, whole: float) -> float:
    """part / whole, NaN when whole is 0."""
    return part / whole if whole else math.nan


def _seconds(x: float) -> str:
    """A delay in the largest sensible unit, to a whole second or a tenth of a minute or hour."""
    if not math.isfinite(x):
        return duration(x)
    step = 1 if x < 119.5 else 6 if x < 7197 else 360
    return duration(round(x / step) * step)


def watch_table(results: Results) -> Table:
    """What the operators saw of the street incidents, with the supervision limits flagged."""
    w = results.watch
    if w is None:
        raise ValueError("the run has no operators (results.watch is None)")
    failed = watch_checks(w)
    n = w.incidents
    median, p90 = w.delay_percentiles()
    psdb = w.detection_p == detection_probability(w.monitors_each)
    t = Table("Operators and incidents", ["item", "value", "note"], align="lrl")
    t.add([f"incidents over {w.days:g} days", count(n), f"{num(share(n, w.days), 1)} a day"])
    t.add(["detected %", pct(w.detected_share), f"{w.detected:,} of {n:,} incidents"])
    t.add(["detected per year", num(w.detected_per_year, 0), f"{w.detected:,} × 365 / {w.days:g}"])
    t.add(["time to detection, median", _seconds(median), "from the start of the incident"])
    t.add(["time to detection, p90", _seconds(p90), ""])
    t.add(["missed: never on a monitor %", pct(share(w.unseen, n)), f"{w.unseen:,} incidents"])
    t.add(["missed: operator busy or on a break %", pct(share(w.away, n)), f"{w.away:,} incidents"])
    t.add(
        [
            "missed: on screen, not noticed %",
            pct(share(w.unnoticed, n)),
            f"{w.unnoticed:,} incidents",
        ]
    )
    t.add(["operators busy %", pct(w.busy_share), f"incidents and {w.requests:,} requests"])
    t.add(
        [
            "detection per look %",
            pct(w.detection_p),
            f"{count(w.monitors_each)} monitors each"
            f"{' (PSDB)' if psdb else ' (set in the scenario)'}, before vigilance",
        ]
    )
    t.add(
        [
            "cameras per operator on duty, most",
            count(w.max_cameras_per_operator),
            f"no more than {MAX_CAMERAS_PER_OPERATOR} (Wallace & Diffley, PSDB)",
        ],
        CAMERAS_PER_OPERATOR in failed,
    )
    t.add(
        [
            "monitors per operator",
            count(w.monitors_each),
            f"about {MAX_MONITORS_PER_OPERATOR} at most (Tickner & Poulton)",
        ],
        MONITORS_EACH in failed,
    )
    t.add(
        ["hours of the day with nobody on duty", count(w.hours_unwatched), ""],
        HOURS_UNWATCHED in failed,
    )
    return t
