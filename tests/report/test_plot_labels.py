"""The plots say what they show: a year-aware run's peak day named on the per-step plots, the
storage plot's axis described (not "retention window" over a 395-day axis); legends beside
the lines, never over them, however many servers; counts written one way ("1,200")."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pytest

from simulator.model.results import Year
from simulator.report.html import render_html
from simulator.report.plots import PLOTS, figure, legend
from simulator.report.summary import summary_text


def _year() -> Year:
    return Year(
        start=dt.datetime(2026, 3, 2), days=365.0, coarse_resolution_s=60, resolution_s=1,
        retention_days=30.0, storage_window_start_h=24 * 280, storage_window_tb=720.4,
        peak_day=300, peak_hour_tb=1.24,
        by_constraint_year={"storage": 3, "ingest": 2, "streams": 1, "iops": 1},
        by_constraint_peak_day={"storage": 0, "ingest": 1, "streams": 1, "iops": 1},
        daily_write_year_tb=23.4,
        daily_write_peak_day_tb=24.1, daily_write_peak_day_coarse_tb=24.1,
    )  # fmt: skip


def caption(plot_id: str, results) -> str:
    text, _ = PLOTS[plot_id]
    return text if isinstance(text, str) else text(results)


def test_year_plots_name_the_peak_day_and_the_storage_axis(results):
    r = dataclasses.replace(results, year=_year())
    peak = "2026-12-27"  # 300 days after 2 March 2026
    assert peak in caption("link-utilisation", r) and peak in caption("server-ingest", r)
    storage = caption("storage-fill", r)
    assert "retention window" not in storage
    assert "30-day retention" in storage and "the year (365 days) once more" in storage
    html = render_html(r)
    assert html.count(peak) >= 2
    # a run of its span says so, and names no day
    assert caption("link-utilisation", results) == "Link utilisation over the run"
    assert "the 1-day run once more" in caption("storage-fill", results)


@pytest.mark.parametrize("lines", [3, 6, 12, 40, 60])
def test_the_legend_is_beside_the_lines_never_over_them(lines):
    """Before, up to 8 entries sat inside the axes (over the lines at their upper left) and
    more went beside them in one column, which 40 servers ran off the figure."""
    with figure() as (fig, ax):
        t = np.linspace(0, 24, 200)
        for k in range(lines):
            ax.plot(t, 100 + 0 * t - k, label=f"rec-{k + 1}")  # lines up to the axes' top
        legend(ax, lines)
        fig.canvas.draw()
        box = ax.get_legend().get_window_extent()
        axes = ax.get_window_extent()
        whole = fig.bbox
    assert not box.overlaps(axes), (box, axes)
    assert box.x0 >= whole.x0 - 1 and box.x1 <= whole.x1 + 1
    assert box.y0 >= whole.y0 - 1 and box.y1 <= whole.y1 + 1
    assert axes.width > 0.4 * whole.width  # the lines keep most of the figure


def test_counts_are_written_one_way(results):
    """1,200 cameras on servers of 1,500 streams, 1,200 servers by streams: "1,200" in the
    summary and the HTML alike (the headline, the servers table and the sizing rows wrote
    "1200")."""
    servers = [dataclasses.replace(s, cameras=1200, max_streams=1500) for s in results.servers]
    sizing = dataclasses.replace(
        results.sizing, servers_needed=1200, by_constraint={"streams": 1200, "storage": 3}
    )
    r = dataclasses.replace(results, cameras=1200, servers=servers, sizing=sizing)
    for text in (summary_text(r), render_html(r)):
        assert "cameras: 1,200" in text or "cameras: <b>1,200</b>" in text
        assert "1,200/1,500" in text
        assert "1200" not in text and "1500" not in text
