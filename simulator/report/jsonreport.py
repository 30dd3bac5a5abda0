"""report.json: the run's figures in a versioned, deterministic schema (see docs/report-schema.md).

Deterministic means byte-identical for equal Results: keys sorted, floats rounded to
SIGNIFICANT_DIGITS significant digits, non-finite floats written as null, and nothing
from the machine (no wall-clock times, hostnames or paths).
"""

from __future__ import annotations

import json
import math
import numbers
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from simulator.model.replications import Replications
from simulator.model.results import Results, Watch, Year
from simulator.report.checks import (
    MAX_CAMERAS_PER_OPERATOR,
    MAX_MONITORS_PER_OPERATOR,
    flags,
)
from simulator.report.costs import costs_dict
from simulator.report.files import atomic_write_text
from simulator.report.reads import reads_dict
from simulator.report.resilience import resilience_dict

SCHEMA = "camsim.report/1"
"""Schema identifier; bump the number on any incompatible change."""

SIGNIFICANT_DIGITS = 6
"""Significant digits kept for every float in report.json."""


def round_sig(x: float, digits: int = SIGNIFICANT_DIGITS) -> float | None:
    """A float rounded to `digits` significant digits; None when not finite; -0.0 becomes 0.0."""
    x = float(x)
    if not math.isfinite(x):
        return None
    r = float(f"{x:.{digits}g}")
    return r + 0.0  # normalises -0.0


def clean(value: Any) -> Any:
    """A JSON-ready copy: numpy and Python numbers normalised, floats rounded, tuples to lists."""
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return round_sig(float(value))
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return [clean(v) for v in value.tolist()]
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    if value is None:
        return None
    raise TypeError(f"report.json cannot hold a {type(value).__name__}")


def to_json_dict(results: Results) -> dict[str, Any]:
    """The report as plain JSON data (schema camsim.report/1), floats already rounded."""
    r = results.recording
    z = results.sizing
    w = results.window
    se = results.series
    report: dict[str, Any] = {
        "schema": SCHEMA,
        "run": {
            "scenario": results.scenario,
            "seed": results.seed,
            "cameras": results.cameras,
            "days": results.days,
        },
        "sizing": {
            "servers_configured": z.servers_configured,
            "servers_needed": z.servers_needed,
            "binding": z.binding,
            "by_constraint": dict(z.by_constraint),
            "storage_needed_tb": z.storage_needed_tb,
            "storage_usable_tb": z.storage_usable_tb,
            "daily_write_tb": z.daily_write_tb,
            "daily_lost_tb": dict(z.daily_lost_tb),
            "planning_load": z.planning_load,
            "groups": [asdict(g) for g in z.groups],
        },
        "links": [asdict(link) for link in results.links],
        "servers": [asdict(s) for s in results.servers],
        "recording": {
            "expected_hours": r.expected_hours,
            "recorded_hours": r.recorded_hours,
            "availability": r.availability,
            "lost_hours": dict(r.lost_hours),
        },
        "window": {
            "start_s": w.start_s,
            "length_s": w.length_s,
            "frames": w.frames,
            "end_to_end_p99_ms": w.end_to_end_p99_ms,
        },
        "series": {
            "step_s": se.step_s,
            "steps": int(se.link_mean_util.shape[-1]) if se.link_mean_util.ndim else 0,
            "link_names": list(se.link_names),
            "server_names": list(se.server_names),
            "storage_points": int(np.size(se.storage_days)),
        },
        "checks": {
            "planning_util": results.sizing.link_planning_load,
            "flags": [
                {"subject": f.subject, "name": f.name, "check": f.check} for f in flags(results)
            ],
        },
        "warnings": list(results.warnings),
    }
    # absent rather than null, so that a run without operators keeps its report byte for byte
    if results.reads is not None:
        report["reads"] = reads_dict(results.reads)
    if results.resilience is not None:
        report["resilience"] = resilience_dict(results.resilience)
    if results.year is not None:
        report["year"] = year_dict(results.year)
    if results.replications is not None:
        report["replications"] = replications_dict(results.replications)
    if results.watch is not None:
        report["watch"] = watch_dict(results.watch)
        report["checks"]["max_cameras_per_operator"] = MAX_CAMERAS_PER_OPERATOR
        report["checks"]["max_monitors_each"] = MAX_MONITORS_PER_OPERATOR
    if results.costs is not None:
        report["costs"] = costs_dict(results.costs)
    return clean(report)


def watch_dict(w: Watch) -> dict[str, Any]:
    """The operators' watch: counts, shares, delays and the hourly profile (not yet cleaned)."""
    median, p90 = w.delay_percentiles()
    by_hour = w.by_hour
    return {
        "days": w.days,
        "incidents": w.incidents,
        "detected": w.detected,
        "unseen": w.unseen,
        "away": w.away,
        "unnoticed": w.unnoticed,
        "detected_share": w.detected_share,
        "detected_per_year": w.detected_per_year,
        "delay_median_s": median,
        "delay_p90_s": p90,
        "busy_share": w.busy_share,
        "requests": w.requests,
        "detection_p": w.detection_p,
        "monitors_each": w.monitors_each,
        "max_cameras_per_operator": w.max_cameras_per_operator,
        "hours_unwatched": w.hours_unwatched,
        "by_hour": [
            {"hour": h, "incidents": int(by_hour[h, 0]), "detected": int(by_hour[h, 1])}
            for h in range(24)
        ],
    }


def year_dict(y: Year) -> dict[str, Any]:
    """Where in the year the sizing binds (not yet cleaned); dates are simulated time, ISO 8601."""
    first, last = y.storage_window
    return {
        "start": y.start.isoformat(),
        "days": y.days,
        "coarse_resolution_s": y.coarse_resolution_s,
        "resolution_s": y.resolution_s,
        "storage_window": {
            "start": first.isoformat(),
            "end": last.isoformat(),
            "start_day": y.storage_window_start_h / 24,
            "days": y.retention_days,
            "full_years": y.full_years,
            "wraps": y.wraps,
            "demand_tb": y.storage_window_tb,
        },
        "peak_day": {
            "date": y.date(y.peak_day).isoformat(),
            "day": y.peak_day,
            "peak_hour_tb": y.peak_hour_tb,
            "daily_write_tb": y.daily_write_peak_day_tb,
            "daily_write_coarse_tb": y.daily_write_peak_day_coarse_tb,
            "coarse_step_s": y.peak_day_coarse_step_s,
            "daily_write_year_draws_tb": y.daily_write_peak_day_year_tb,
            "link_p99_util_coarse": dict(y.link_p99_util_peak_day_coarse),
        },
        "daily_write_mean_tb": y.daily_write_year_tb,
        "by_constraint_year": dict(y.by_constraint_year),
        "by_constraint_peak_day": dict(y.by_constraint_peak_day),
        "binding_where": {k: y.where(k) for k in y.by_constraint_year},
        "links": {
            name: {"p99_util": p99, "loss_fraction": y.link_loss_year.get(name, 0.0)}
            for name, p99 in y.link_p99_util_year.items()
        },
    }


def replications_dict(rep: Replications) -> dict[str, Any]:
    """Key figures over the replications (not yet cleaned)."""
    return {
        "count": len(rep.seeds),
        "seed": rep.seed,
        "seeds": list(rep.seeds),
        "figures": {
            name: {
                "mean": iv.mean,
                "low": iv.low,
                "high": iv.high,
                "half_width": iv.half_width,
                "sd": iv.sd,
                "n": iv.n,
                "level": iv.level,
                "values": list(rep.values[name]),
            }
            for name, iv in rep.figures.items()
        },
    }


def dumps(results: Results) -> str:
    """report.json's exact text: sorted keys, two-space indent, trailing newline."""
    data = to_json_dict(results)
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def write_json(results: Results, path: str | Path) -> Path:
    """Write report.json atomically; returns the path written."""
    return atomic_write_text(Path(path), dumps(results))
