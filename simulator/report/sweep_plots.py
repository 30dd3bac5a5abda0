"""A sweep's plots as PNG bytes: each key figure against the first field swept, one line per
combination of the other fields, with 95 % intervals as error bars when the runs have
replications."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from simulator.model.replications import KEY_FIGURES
from simulator.model.results import Results
from simulator.report.plots import colours, figure, legend, png
from simulator.report.sweep import Points

if TYPE_CHECKING:
    from matplotlib.axes import Axes


@dataclass(frozen=True)
class SweepPlot:
    """One plot: a key figure (a key of KEY_FIGURES), its axis label and display scale."""

    key: str
    caption: str
    label: str
    scale: float = 1.0  # 100 for a fraction shown as %
    watch: bool = False  # only when the runs have operators


SWEEP_PLOTS = {
    "storage": SweepPlot("storage_needed_tb", "Storage needed", "storage needed (TB)"),
    "servers": SweepPlot("servers_needed", "Recording servers needed", "servers needed"),
    "busiest-link": SweepPlot(
        "busiest_link_p99_util", "Busiest link, p99 utilisation", "busiest link p99 (%)", 100
    ),
    "availability": SweepPlot(
        "availability", "Recording availability", "recording availability (%)", 100
    ),
    "incidents-seen": SweepPlot(
        "detected_share", "Incidents seen by the operators", "incidents seen (%)", 100, True
    ),
}
"""Every plot of a sweep: id → what it draws."""


def plots_for(results: Sequence[Results]) -> dict[str, SweepPlot]:
    """The plots these runs have (the operators' only when every run has operators)."""
    watched = all(r.watch is not None for r in results)
    return {k: p for k, p in SWEEP_PLOTS.items() if watched or not p.watch}


def figure_values(results: Sequence[Results], key: str) -> np.ndarray:
    """(points, 3): each run's mean, low and high of the figure; without replications the
    run's own value and NaN bounds (NaN too where a run lacks the figure)."""
    out = np.full((len(results), 3), math.nan)
    for i, r in enumerate(results):
        if r.replications is None:
            out[i, 0] = KEY_FIGURES[key][1](r)
        elif key in r.replications.figures:
            iv = r.replications.figures[key]
            out[i] = iv.mean, iv.low, iv.high
    return out


def _numeric(values: Sequence[str]) -> list[float] | None:
    try:
        return [float(v) for v in values]
    except ValueError:
        return None


def run_label(r: Results) -> str:
    """Which runs a figure comes from: the scenario's seed, the replications, the span."""
    span = "year-aware" if r.year is not None else f"{r.days:g}-day runs"
    if r.replications is None:
        return f"seed {r.seed}, one run per point, {span}"
    n = len(r.replications.seeds)
    return f"seed {r.replications.seed}, mean and 95 % interval of {n} replications, {span}"


def _reference(ax: Axes, plot: SweepPlot, results: Sequence[Results]) -> None:
    """The limit a figure is read against: configured servers, the planning line."""
    if plot.key == "servers_needed":
        have = {r.sizing.servers_configured for r in results}
        if len(have) == 1:
            n = have.pop()
            ax.axhline(n, color="black", lw=1.0, ls="--", label=f"configured ({n})")
    elif plot.key == "busiest_link_p99_util":
        lines = {r.sizing.link_planning_load for r in results}
        if len(lines) == 1:
            line = lines.pop()
            ax.axhline(line * 100, color="crimson", lw=1.0, ls="--",
                       label=f"planning line ({line:.0%})")  # fmt: skip


def sweep_png(
    plot: SweepPlot, fields: Sequence[str], points: Points, results: Sequence[Results]
) -> bytes:
    """The figure against the first field's values (numeric axis when they are numbers), a
    line for each combination of the other fields' values."""
    xs = list(dict.fromkeys(p[0] for p in points))
    if (numeric := _numeric(xs)) is not None:  # lines from left to right, whatever the order
        xs = [v for _, v in sorted(zip(numeric, xs, strict=True))]
        numeric = sorted(numeric)
    rests = list(dict.fromkeys(tuple(p[1:]) for p in points))
    where = {(p[0], tuple(p[1:])): i for i, p in enumerate(points)}
    values = figure_values(results, plot.key) * plot.scale
    x = np.asarray(numeric if numeric is not None else range(len(xs)), dtype=float)
    # lines side by side, a little apart, so that their error bars do not hide each other
    step = 0.008 * (np.ptp(x) or 1.0) if results[0].replications is not None else 0.0
    with figure(7.5, 3.8) as (fig, ax):
        for j, (rest, colour) in enumerate(zip(rests, colours(len(rests)), strict=True)):
            rows = [where.get((v, rest)) for v in xs]
            y = np.array([values[i] if i is not None else [math.nan] * 3 for i in rows])
            label = ", ".join(f"{f} = {v}" for f, v in zip(fields[1:], rest, strict=True))
            err = np.abs(y[:, 1:].T - y[:, 0])  # NaN (no bar) without replications
            dx = (j - (len(rests) - 1) / 2) * step
            ax.errorbar(x + dx, y[:, 0], yerr=err, color=colour, marker="o", ms=4, lw=1.4,
                        capsize=3, label=label or None)  # fmt: skip
        _reference(ax, plot, results)
        if numeric is None:  # long values (lists) shortened: the table has them whole
            ticks = [v if len(v) <= 16 else v[:15] + "…" for v in xs]
            ax.set_xticks(x, ticks, rotation=30 if max(map(len, ticks)) > 6 else 0)
        elif len(xs) <= 12:
            ax.set_xticks(x, xs)  # the values swept, as given
        ax.set_xlabel(fields[0])
        ax.set_ylabel(plot.label)
        r = results[0]
        ax.set_title(f"{plot.caption} against {fields[0]}\n{r.scenario}: {run_label(r)}",
                     fontsize=9)  # fmt: skip
        if ax.get_legend_handles_labels()[0]:
            if len(rests) > 8:
                legend(ax, len(rests))  # beside the axes
            else:
                ax.legend(loc="best", fontsize=8, framealpha=0.9)
        return png(fig)
