"""The report's plots as PNG bytes (matplotlib Agg, imported lazily, no pyplot global state)."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np

from simulator.model.results import Results
from simulator.report.checks import link_checks

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

MAX_POINTS = 2000
"""Time series longer than this are block-averaged for drawing (the CSV keeps every step)."""

STYLE: dict[str, Any] = {
    "svg.hashsalt": "camsim",
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "figure.dpi": 100,
    "savefig.dpi": 100,
}


@contextmanager
def figure(width: float = 10.0, height: float = 4.0) -> Iterator[tuple[Figure, Axes]]:
    """A fresh Agg figure and axes under the report's fixed style."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(width, height), layout="constrained")
        FigureCanvasAgg(fig)
        yield fig, fig.add_subplot()


def png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


def _thin(t: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Block-average (rows, steps) to at most MAX_POINTS steps for drawing."""
    steps = y.shape[-1]
    k = -(-steps // MAX_POINTS)
    if k <= 1:
        return t, y
    n = steps // k * k
    yb = y[..., :n].reshape(*y.shape[:-1], -1, k).mean(axis=-1)
    return t[:n:k], yb


def _hours_axis(ax: Axes, total_h: float) -> None:
    ax.set_xlim(0, total_h)
    step = 3 if total_h <= 48 else 24
    ax.set_xticks(np.arange(0, total_h + 1e-9, step))
    ax.set_xlabel("simulated time (h)")


LEGEND_ROWS = 16
"""Entries in one column of a legend beside the axes (a 4-inch figure holds about 18 at 7 pt);
more entries take more columns."""


def legend(ax: Axes, n: int) -> None:
    """The legend of `n` entries beside the axes, never over the lines: outside, right of the
    plot, in as many columns as it needs of at most LEGEND_ROWS entries (the constrained
    layout narrows the axes to make room)."""
    ax.legend(
        loc="upper left", bbox_to_anchor=(1.01, 1.0), ncol=max(1, -(-n // LEGEND_ROWS)),
        fontsize=7 if n > 8 else 8, frameon=False, borderaxespad=0.0,
    )  # fmt: skip


def span_text(results: Results) -> str:
    """What the per-step plots (links, servers' ingest) show: the year-aware run's peak day,
    named, or the run."""
    y = results.year
    if y is None:
        return "over the run"
    return f"on the year's peak day, {y.date(y.peak_day):%Y-%m-%d} (busiest hour of demand)"


def _day_axis_label(results: Results) -> str:
    y = results.year
    if y is None:
        return "simulated time (h)"
    return f"hours of {y.date(y.peak_day):%Y-%m-%d}, the year's peak day"


def storage_text(results: Results) -> str:
    """What the storage plot's axis is: from an empty store, the retention period filling it,
    then the run (or the year) once more, repeating, the store full."""
    days = results.year.days if results.year is not None else results.days
    keep = results.year.retention_days if results.year is not None else None
    run = f"the year ({days:g} days)" if results.year is not None else f"the {days:g}-day run"
    keep_text = f"the {keep:g}-day retention" if keep is not None else "the retention period"
    return (
        f"Storage fill from an empty store: {keep_text} filling it, then {run} once more, "
        "repeating, with the store full"
    )


def colours(n: int) -> list[Any]:
    """n distinct colours; beyond 10, tab20's dark shades first, then its light ones."""
    from matplotlib import colormaps

    if n <= 10:
        cmap = colormaps["tab10"]
        return [cmap(i) for i in range(n)]
    cmap = colormaps["tab20"]
    order = [*range(0, 20, 2), *range(1, 20, 2)]
    return [cmap(order[i % 20]) for i in range(n)]


def _limit_lines(
    ax: Axes, limits: dict[str, float], colours: dict[str, Any], what: str, unit: str
) -> None:
    """Horizontal limit lines: one black line when every server shares it, else one per server."""
    values = {v for v in limits.values() if np.isfinite(v)}
    if len(values) == 1:
        v = values.pop()
        ax.axhline(v, color="black", lw=1.2, ls="--", label=f"{what} ({v:g} {unit}, each server)")
        return
    for name, v in limits.items():
        if np.isfinite(v):
            ax.axhline(v, color=colours[name], lw=1.0, ls="--", label=f"{name} {what}")


def link_utilisation_png(results: Results) -> bytes:
    """Mean utilisation per step for every link, with 100 % capacity and the planning line."""
    s = results.series
    util = np.asarray(s.link_mean_util, dtype=float).reshape(len(s.link_names), -1) * 100
    t_h = np.arange(util.shape[1]) * s.step_s / 3600
    t_plot, u_plot = _thin(t_h, util)
    line = results.sizing.link_planning_load
    hot = {link.name for link in results.links if link_checks(link, line)}
    with figure() as (fig, ax):
        for name, y, c in zip(s.link_names, u_plot, colours(len(s.link_names)), strict=True):
            flagged = name in hot
            ax.plot(
                t_plot, y, lw=2.0 if flagged else 0.9, color=c, zorder=3 if flagged else 2,
                label=f"{name} (!)" if flagged else name,
            )  # fmt: skip
        ax.axhline(100, color="black", lw=1.2, label="capacity (100 %)")
        ax.axhline(
            line * 100, color="crimson", lw=1.0, ls="--", label=f"planning line ({line:.0%})",
        )  # fmt: skip
        top = max(110.0, float(np.nanmax(u_plot)) * 1.05 if u_plot.size else 110.0)
        ax.set_ylim(0, top)
        ax.set_ylabel("utilisation, mean per step (%)")
        fig.suptitle(f"Link utilisation {span_text(results)} ({s.step_s} s steps)", fontsize=10)
        _hours_axis(ax, float(t_h[-1] + s.step_s / 3600) if t_h.size else 24.0)
        ax.set_xlabel(_day_axis_label(results))
        legend(ax, len(s.link_names) + 2)
        return png(fig)


def storage_fill_png(results: Results) -> bytes:
    """Occupied storage per server over the retention window, with each usable capacity."""
    s = results.series
    days = np.asarray(s.storage_days, dtype=float)
    fill = np.asarray(s.storage_fill_tb, dtype=float).reshape(len(s.server_names), -1)
    usable = {srv.name: srv.usable_tb for srv in results.servers if srv.name in s.server_names}
    by_server = dict(zip(s.server_names, colours(len(s.server_names)), strict=True))
    with figure() as (fig, ax):
        for name, y in zip(s.server_names, fill, strict=True):
            ax.plot(days, y, lw=1.5, color=by_server[name], label=name)
        _limit_lines(ax, usable, by_server, "usable", "TB")
        ax.set_xlabel("days since the first recording (from an empty store)")
        ax.set_ylabel("occupied storage (TB)")
        ax.set_ylim(bottom=0)
        if days.size:
            ax.set_xlim(float(days.min()), float(days.max()))
        fig.suptitle(
            f"Storage fill per recording server (dashed: usable capacity)\n{storage_text(results)}",
            fontsize=10,
        )
        legend(ax, len(s.server_names) + len(set(usable.values())))
        return png(fig)


def server_ingest_png(results: Results) -> bytes:
    """Ingest per recording server per step, with each server's ingest limit."""
    s = results.series
    ingest = np.asarray(s.server_ingest_mbps, dtype=float).reshape(len(s.server_names), -1)
    t_h = np.arange(ingest.shape[1]) * s.step_s / 3600
    t_plot, i_plot = _thin(t_h, ingest)
    limit = {
        srv.name: srv.ingest_limit_mbps for srv in results.servers if srv.name in s.server_names
    }
    by_server = dict(zip(s.server_names, colours(len(s.server_names)), strict=True))
    with figure() as (fig, ax):
        for name, y in zip(s.server_names, i_plot, strict=True):
            ax.plot(t_plot, y, lw=1.0, color=by_server[name], label=name)
        _limit_lines(ax, limit, by_server, "ingest limit", "Mbps")
        ax.set_ylim(bottom=0)
        ax.set_ylabel("ingest (Mbps, mean per step)")
        fig.suptitle(
            f"Recording-server ingest {span_text(results)} (dashed: ingest limit)", fontsize=10
        )
        _hours_axis(ax, float(t_h[-1] + s.step_s / 3600) if t_h.size else 24.0)
        ax.set_xlabel(_day_axis_label(results))
        legend(ax, len(s.server_names) + len(set(limit.values())))
        return png(fig)


def bitrate_histogram_png(results: Results) -> bytes:
    """Distribution of camera mean bitrates (main + sub stream)."""
    mbps = np.asarray(results.series.camera_mean_mbps, dtype=float)
    mbps = mbps[np.isfinite(mbps)]
    with figure(7.0, 3.5) as (fig, ax):
        if mbps.size:
            bins = int(np.clip(np.sqrt(mbps.size) * 2, 10, 60))
            ax.hist(mbps, bins=bins, color="steelblue", edgecolor="white", lw=0.5)
            mean = float(mbps.mean())
            ax.axvline(mean, color="black", lw=1.0, ls="--", label=f"mean {mean:.2f} Mbps")
            ax.legend(loc="upper right", fontsize=8)
        ax.set_xlabel("camera mean bitrate, main + sub (Mbps)")
        ax.set_ylabel("cameras")
        ax.set_title(f"Bitrate distribution ({mbps.size:,} cameras)")
        return png(fig)


def incidents_by_hour_png(results: Results) -> bytes:
    """Incidents and those detected by local hour of day, with the detected share on a twin axis."""
    w = results.watch
    if w is None:
        raise ValueError("the run has no operators (results.watch is None)")
    by_hour = np.asarray(w.by_hour, dtype=float)
    incidents, detected = by_hour[:, 0], by_hour[:, 1]
    hours = np.arange(24)
    with np.errstate(invalid="ignore", divide="ignore"):
        detected_pct = np.where(incidents > 0, detected / incidents * 100, np.nan)
    with figure() as (fig, ax):
        ax.bar(hours - 0.2, incidents, width=0.4, color="silver", label="incidents")
        ax.bar(hours + 0.2, detected, width=0.4, color="steelblue", label="detected")
        ax.set_xlim(-0.6, 23.6)
        ax.set_xticks(hours)
        ax.set_xlabel("local hour of day (incident start)")
        ax.set_ylabel(f"incidents over {w.days:g} days")
        top = float(incidents.max()) if incidents.size else 0.0
        ax.set_ylim(0, max(1.0, top) * 1.25)  # headroom for the legend
        share = ax.twinx()
        share.plot(hours, detected_pct, color="crimson", marker="o", ms=3, lw=1.2,
                   label="detected share (%)")  # fmt: skip
        share.set_ylim(0, 125)
        share.set_yticks(np.arange(0, 101, 20))
        share.set_ylabel("detected (%)")
        share.grid(False)
        share.spines["right"].set_visible(True)
        total = w.detected / w.incidents * 100 if w.incidents else float("nan")
        ax.set_title(
            f"Incidents and detections by hour of day ({w.incidents:,} incidents, "
            f"{total:.0f} % detected)"
            if w.incidents
            else "Incidents and detections by hour of day (no incidents)"
        )
        handles, labels = ax.get_legend_handles_labels()
        h2, l2 = share.get_legend_handles_labels()
        ax.legend(handles + h2, labels + l2, loc="upper center", ncol=3, fontsize=8, framealpha=0.9)
        return png(fig)


def disk_load_png(results: Results) -> bytes:
    """Each server's back-end disk IOPS (writes × RAID penalty + reads) against its disks."""
    reads = results.reads
    if reads is None:
        raise ValueError("the run has no read load (results.reads is None)")
    load = np.asarray(reads.disk_load, dtype=float).reshape(len(reads.servers), -1) * 100
    t_h = np.arange(load.shape[1]) * reads.step_s / 3600
    t_plot, y_plot = _thin(t_h, load)
    with figure() as (fig, ax):
        for s, y, c in zip(reads.servers, y_plot, colours(len(reads.servers)), strict=True):
            ax.plot(t_plot, y, lw=1.0, color=c, label=s.name)
        ax.axhline(100, color="black", lw=1.2, ls="--", label="disks' IOPS (100 %)")
        ax.set_ylim(0, max(110.0, float(np.nanmax(y_plot)) * 1.05 if y_plot.size else 110.0))
        ax.set_ylabel("disk IOPS used, mean per step (%)")
        ax.set_title("Recorder disks: writes × RAID penalty + reads (AxxonSoft)")
        _hours_axis(ax, float(t_h[-1] + reads.step_s / 3600) if t_h.size else 24.0)
        legend(ax, len(reads.servers) + 1)
        return png(fig)


Caption = str | Callable[[Results], str]

PLOTS: dict[str, tuple[Caption, Callable[[Results], bytes]]] = {
    "link-utilisation": (lambda r: f"Link utilisation {span_text(r)}", link_utilisation_png),
    "storage-fill": (storage_text, storage_fill_png),
    "server-ingest": (lambda r: f"Recording-server ingest {span_text(r)}", server_ingest_png),
    "bitrate-distribution": ("Camera bitrate distribution", bitrate_histogram_png),
}
"""Every plot of every run: id → (caption, or the function of the run giving it; function
returning PNG bytes)."""

WATCH_PLOTS: dict[str, tuple[str, Callable[[Results], bytes]]] = {
    "incidents-by-hour": ("Incidents and detections by hour of day", incidents_by_hour_png),
}
"""The plots of a run with operators (results.watch not None)."""

READS_PLOTS: dict[str, tuple[str, Callable[[Results], bytes]]] = {
    "disk-load": ("Recorder disks: write and read IOPS against the disks", disk_load_png),
}
"""The plots of a run with a read load (results.reads not None)."""
