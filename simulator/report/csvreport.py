"""CSV time series: links.csv, servers.csv, storage.csv, cameras.csv, and incidents_by_hour.csv
when the run has operators (see docs/report-schema.md).

Numbers are written with CSV_DIGITS significant digits ("g" format), rows end in "\\n",
so equal Results give identical files.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from simulator.model.results import Results
from simulator.report.files import atomic_write_text

CSV_DIGITS = 6
"""Significant digits for floats in the CSV files."""

CSV_FILES = ("links.csv", "servers.csv", "storage.csv", "cameras.csv")
"""The files write_csv produces, in order (then WATCH_CSV when the run has operators)."""

WATCH_CSV = "incidents_by_hour.csv"
"""Incidents and detections by hour of day, written only when the run has operators."""


def fmt(x: float) -> str:
    """One CSV number: integers as integers, floats to CSV_DIGITS significant digits, NaN empty."""
    if isinstance(x, int | np.integer):
        return str(int(x))
    x = float(x) + 0.0  # + 0.0 turns -0.0 into 0.0
    if not math.isfinite(x):
        return ""
    return f"{x:.{CSV_DIGITS}g}"


def csv_text(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """CSV with a header row; numbers written by `fmt`, text as it is."""
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\n")
    out.writerow(header)
    for row in rows:
        out.writerow([c if isinstance(c, str) else fmt(c) for c in row])  # type: ignore[arg-type]
    return buf.getvalue()


def links_csv(results: Results) -> str:
    """time_s, then <link>_mean_util and <link>_max_util per step (utilisation 0..1+)."""
    s = results.series
    header = ["time_s"]
    for name in s.link_names:
        header += [f"{name}_mean_util", f"{name}_max_util"]
    mean = np.asarray(s.link_mean_util, dtype=float).reshape(len(s.link_names), -1)
    peak = np.asarray(s.link_max_util, dtype=float).reshape(len(s.link_names), -1)
    steps = mean.shape[1]
    inter = np.empty((2 * len(s.link_names), steps))
    inter[0::2], inter[1::2] = mean, peak
    return csv_text(header, ([i * s.step_s, *inter[:, i].tolist()] for i in range(steps)))


def servers_csv(results: Results) -> str:
    """time_s, then <server>_ingest_mbps per step (mean over the step)."""
    s = results.series
    ingest = np.asarray(s.server_ingest_mbps, dtype=float).reshape(len(s.server_names), -1)
    header = ["time_s", *(f"{n}_ingest_mbps" for n in s.server_names)]
    steps = ingest.shape[1]
    return csv_text(header, ([i * s.step_s, *ingest[:, i].tolist()] for i in range(steps)))


def storage_csv(results: Results) -> str:
    """day, then <server>_fill_tb: occupied storage per server."""
    s = results.series
    days = np.asarray(s.storage_days, dtype=float)
    fill = np.asarray(s.storage_fill_tb, dtype=float).reshape(len(s.server_names), -1)
    header = ["day", *(f"{n}_fill_tb" for n in s.server_names)]
    return csv_text(header, ([days[i], *fill[:, i].tolist()] for i in range(days.size)))


def cameras_csv(results: Results) -> str:
    """camera id, district, recording server ("" if none), mean_mbps (main + sub, whole run)."""
    sr = results.series
    mbps = np.asarray(sr.camera_mean_mbps, dtype=float).tolist()
    ids = sr.camera_ids or [str(i) for i in range(len(mbps))]
    districts = sr.camera_districts or [""] * len(mbps)
    servers = sr.camera_servers or [""] * len(mbps)
    rows = zip(ids, districts, servers, mbps, strict=True)
    return csv_text(["camera", "district", "server", "mean_mbps"], ([*r] for r in rows))


def incidents_by_hour_csv(results: Results) -> str:
    """hour (local, 0-23), incidents, detected, detected_share (empty when no incidents)."""
    if results.watch is None:
        raise ValueError("the run has no operators (results.watch is None)")
    by_hour = results.watch.by_hour
    rows = (
        [h, int(n), int(d), d / n if n else math.nan] for h, (n, d) in enumerate(by_hour.tolist())
    )
    return csv_text(["hour", "incidents", "detected", "detected_share"], rows)


def csv_texts(results: Results) -> dict[str, str]:
    """Every CSV file's name and exact text."""
    texts = {
        "links.csv": links_csv(results),
        "servers.csv": servers_csv(results),
        "storage.csv": storage_csv(results),
        "cameras.csv": cameras_csv(results),
    }
    if results.watch is not None:
        texts[WATCH_CSV] = incidents_by_hour_csv(results)
    return texts


def write_csv(results: Results, out_dir: str | Path) -> list[Path]:
    """Write the CSV files into out_dir atomically; returns their paths."""
    out = Path(out_dir)
    return [atomic_write_text(out / name, text) for name, text in csv_texts(results).items()]
