"""A sweep's HTML page: what was swept, the sweep table and one plot per key figure."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from simulator.model.results import Results
from simulator.report.html import CSS, figure_html, table_html
from simulator.report.sweep import Points, sweep_summary


def render_sweep_html(fields: Sequence[str], points: Points, results: Sequence[Results]) -> str:
    """The whole page as a string (plots rendered now, embedded as base64 PNG)."""
    from simulator.report.sweep_plots import plots_for, run_label, sweep_png

    r = results[0]
    axes = "".join(
        f"<li><code>{escape(f)}</code>: {escape(', '.join(dict.fromkeys(p[i] for p in points)))}"
        "</li>"
        for i, f in enumerate(fields)
    )
    reps = (
        ""
        if r.replications is None
        else " Every point runs the same replication seeds (children of the scenario's seed); "
        "the error bars are 95 % Student-t confidence intervals."
    )
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>camsim sweep: {escape(r.scenario)}</title>",
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
        f"<h1>camsim sweep: {escape(r.scenario)}</h1>",
        f"<p>{len(points)} points: {escape(run_label(r))}.{escape(reps)} The grid is every "
        "combination of these values, the first field varying slowest:</p>",
        f"<ul>{axes}</ul>",
        table_html(sweep_summary(fields, points, results)),
        "<h2>Plots</h2>",
    ]
    for plot_id, plot in plots_for(results).items():
        parts.append(figure_html(plot_id, plot.caption, sweep_png(plot, fields, points, results)))
    parts += ["</body>", "</html>"]
    return "\n".join(parts) + "\n"
