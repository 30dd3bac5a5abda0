"""A sweep's runs side by side: one row for each point of the grid (a value of each field
swept, one column per field)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from simulator.model.replications import KEY_FIGURES
from simulator.model.results import Results
from simulator.report.costs import sweep_cost
from simulator.report.csvreport import csv_text
from simulator.report.key_figures import figure_digits, mean_pm
from simulator.report.summary import render_table
from simulator.report.text import Table, count, num, pct


def sweep_rows(results: Sequence[Results]) -> list[dict[str, float | str]]:
    """The key figures of each run (NaN where a run has no operators)."""
    rows = []
    for r in results:
        worst = max(r.links, key=lambda lk: lk.p99_util if math.isfinite(lk.p99_util) else -1)
        w = r.watch
        rows.append(
            {
                "cameras": r.cameras,
                "storage_needed_tb": r.sizing.storage_needed_tb,
                "servers_needed": r.sizing.servers_needed,
                "servers_configured": r.sizing.servers_configured,
                "busiest_link": worst.name,
                "busiest_link_p99_util": worst.p99_util,
                "availability": r.recording.availability,
                "detected_share": w.detected_share if w else math.nan,
                "detected_per_year": w.detected_per_year if w else math.nan,
                "delay_median_s": w.delay_percentiles()[0] if w else math.nan,
            }
        )
        if r.costs is not None:
            rows[-1].update({f"cost_{k}": v for k, v in sweep_cost(r)[1].items()})
    return rows


Points = Sequence[Sequence[str]]  # one value per field swept, in the grid's order


def field_labels(fields: Sequence[str]) -> list[str]:
    """Column headings for the fields: the last part of each path, unless two share it."""
    leaves = [f.rsplit(".", 1)[-1] for f in fields]
    return leaves if len(set(leaves)) == len(leaves) else list(fields)


def _title(fields: Sequence[str], r: Results) -> str:
    seed = r.seed if r.replications is None else r.replications.seed  # the scenario's
    return f"Sweep of {' × '.join(fields)} ({r.scenario}, seed {seed})"


def sweep_table(fields: Sequence[str], points: Points, results: Sequence[Results]) -> Table:
    """One row per point; flagged where a limit is passed (as in the run's summary)."""
    watched = any(r.watch is not None for r in results)
    columns = [*field_labels(fields), "cameras", "storage TB", "servers need/have",
               "busiest link p99 %", "avail. %"]  # fmt: skip
    if watched:
        columns += ["seen %", "seen/year", "delay s"]
    columns += _cost_column(results)
    t = Table(_title(fields, results[0]), columns)
    # seen: incidents detected by the operators; delay: median time to detection
    for point, row, r in zip(points, sweep_rows(results), results, strict=True):
        cells = [
            *point,
            count(int(row["cameras"])),
            num(float(row["storage_needed_tb"]), 1),
            f"{count(int(row['servers_needed']))}/{count(int(row['servers_configured']))}",
            f"{pct(float(row['busiest_link_p99_util']))} {row['busiest_link']}",
            pct(float(row["availability"]), 3),
        ]
        if watched:
            cells += [
                pct(float(row["detected_share"])),
                num(float(row["detected_per_year"]), 0),
                num(float(row["delay_median_s"]), 0),
            ]
        cells += [sweep_cost(r)[0]] if len(columns) > len(cells) else []
        over = float(row["busiest_link_p99_util"]) > r.sizing.link_planning_load or int(
            row["servers_needed"]
        ) > int(row["servers_configured"])
        t.add(cells, over)
    return t


def _cost_column(results: Sequence[Results]) -> list[str]:
    """The cost column's heading, when a run has prices: the configured total over the horizon
    (and, in brackets where it differs, with the servers the sizing needs)."""
    priced = [r.costs for r in results if r.costs is not None]
    if not priced:
        return []
    return [f"TCO {priced[0].currency} {priced[0].horizon_years:g} y (as needed)"]


SWEEP_FIGURES = ("storage_needed_tb", "servers_needed", "busiest_link_p99_util",
                 "lost_camera_hours", "detected_share", "detected_per_year")  # fmt: skip
"""The key figures a sweep with replications tabulates (its CSV has them all)."""


def sweep_replications_table(
    fields: Sequence[str], points: Points, results: Sequence[Results]
) -> Table:
    """One row per point: each key figure's mean ± half-width over its replications."""
    reps = [r.replications for r in results]
    assert all(r is not None for r in reps), "every value needs its replications"
    names = [k for k in SWEEP_FIGURES if all(k in r.figures for r in reps)]  # type: ignore[union-attr]
    n = len(reps[0].seeds)  # type: ignore[union-attr]
    t = Table(
        f"{_title(fields, results[0])}: mean ± 95% half-width over {n} replications",
        [*field_labels(fields), *(KEY_FIGURES[k][0] for k in names), *_cost_column(results)],
    )
    for point, rep, r in zip(points, reps, results, strict=True):
        cells = [*point]
        for k in names:
            label, iv = KEY_FIGURES[k][0], rep.figures[k]  # type: ignore[union-attr]
            d = figure_digits(label, rep.values[k])  # type: ignore[union-attr]
            cells.append(mean_pm(label, iv, d))
        cells += [sweep_cost(r)[0]] if len(t.columns) > len(cells) else []
        t.add(cells)
    return t


def sweep_summary(fields: Sequence[str], points: Points, results: Sequence[Results]) -> Table:
    """The sweep's table: over the replications when the runs have them."""
    if results and results[0].replications is not None:
        return sweep_replications_table(fields, points, results)
    return sweep_table(fields, points, results)


def sweep_text(fields: Sequence[str], points: Points, results: Sequence[Results]) -> str:
    """The sweep table for the terminal."""
    return "\n".join(render_table(sweep_summary(fields, points, results))) + "\n"


def sweep_csv(fields: Sequence[str], points: Points, results: Sequence[Results]) -> str:
    """The figures as CSV, one row per point, one column per field (fractions as fractions,
    not %); with replications, every key figure's mean, low and high."""
    rows = sweep_rows(results)
    for row, r in zip(rows, results, strict=True):
        for k, iv in ({} if r.replications is None else r.replications.figures).items():
            row.update({f"{k}_mean": iv.mean, f"{k}_low": iv.low, f"{k}_high": iv.high})
    body = ([*point, *row.values()] for point, row in zip(points, rows, strict=True))
    return csv_text([*fields, *rows[0]], body)
