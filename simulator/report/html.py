"""report.html: one self-contained page with the summary tables and embedded PNG plots."""

from __future__ import annotations

import base64
from html import escape
from pathlib import Path

from simulator.model.results import Results
from simulator.report.checks import (
    MAX_CAMERAS_PER_OPERATOR,
    MAX_MONITORS_PER_OPERATOR,
    findings,
)
from simulator.report.csvreport import CSV_FILES, WATCH_CSV
from simulator.report.files import atomic_write_text
from simulator.report.jsonreport import SCHEMA
from simulator.report.tables import FLAG, Table, all_tables, headline

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto;
       max-width: 1100px; padding: 0 1em; color: #222; line-height: 1.4; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; }
h2 { font-size: 1.15em; margin-top: 1.8em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
.headline span { margin-right: 1.5em; }
.headline b { font-weight: 600; }
table { border-collapse: collapse; margin: 0.5em 0; font-size: 0.92em; }
th, td { padding: 0.25em 0.7em; border-bottom: 1px solid #eee; }
th { background: #f4f4f4; text-align: left; font-weight: 600; }
td.r { text-align: right; font-variant-numeric: tabular-nums; }
tr.flag td { background: #fff1f0; }
td.mark { color: #c0392b; font-weight: 700; width: 1em; }
ul.warnings li { color: #8a4b00; }
figure { margin: 1em 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: 0.9em; color: #555; }
footer { margin-top: 3em; font-size: 0.85em; color: #777; }
"""


def table_html(table: Table) -> str:
    """One summary table as HTML; flagged rows carry class "flag" and the flag marker."""
    align = table.alignment()
    head = "".join(f"<th>{escape(c)}</th>" for c in table.columns)
    rows = []
    for cells, flagged in zip(table.rows, table.flagged, strict=True):
        tds = "".join(
            f'<td class="{"r" if a == "r" else "l"}">{escape(c)}</td>'
            for c, a in zip(cells, align, strict=True)
        )
        mark = FLAG if flagged else ""
        cls = ' class="flag"' if flagged else ""
        rows.append(f'<tr{cls}><td class="mark">{mark}</td>{tds}</tr>')
    return (
        f"<h2>{escape(table.title)}</h2>\n<table>\n<thead><tr><th></th>{head}</tr></thead>\n"
        f"<tbody>\n" + "\n".join(rows) + "\n</tbody>\n</table>"
    )


def figure_html(plot_id: str, caption: str, png: bytes) -> str:
    """One plot as a figure with the PNG embedded as base64."""
    data = base64.b64encode(png).decode("ascii")
    return (
        f'<figure id="{plot_id}"><img alt="{escape(caption)}" '
        f'src="data:image/png;base64,{data}">'
        f"<figcaption>{escape(caption)}</figcaption></figure>"
    )


def render_html(results: Results) -> str:
    """The whole page as a string (plots rendered now, embedded as base64 PNG)."""
    from simulator.report.plots import PLOTS, READS_PLOTS, WATCH_PLOTS

    head = "".join(f"<span>{escape(k)}: <b>{escape(v)}</b></span>" for k, v in headline(results))
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>camsim report: {escape(results.scenario)}</title>",
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
        f"<h1>camsim sizing report: {escape(results.scenario)}</h1>",
        f'<p class="headline">{head}</p>',
        f"<p>Rows marked <b>{FLAG}</b> are over a limit: link p99 utilisation above "
        f"{results.sizing.link_planning_load:.0%}, any loss; a server's p99 ingest, streams, "
        "write IOPS or MB/s "
        f"above the {results.sizing.planning_load:.0%} planning line servers needed size to, "
        "or storage above what the server has"
        + (
            f"; more than {MAX_CAMERAS_PER_OPERATOR} cameras or {MAX_MONITORS_PER_OPERATOR} "
            "monitors per operator, or hours of the day with nobody on duty"
            if results.watch is not None
            else ""
        )
        + ".</p>",
    ]
    found = findings(results)
    if found:
        items = "".join(f"<li>{escape(w)}</li>" for w in found)
        parts.append(f'<h2>Warnings</h2>\n<ul class="warnings">{items}</ul>')
    tables = all_tables(results)
    parts += [table_html(t) for t in tables[:2]]
    parts.append("<h2>Plots</h2>")
    for plot_id, (caption, draw) in PLOTS.items():
        text = caption if isinstance(caption, str) else caption(results)
        parts.append(figure_html(plot_id, text, draw(results)))
    parts += [table_html(t) for t in tables[2:]]  # the operators' table, when there, is last
    if results.reads is not None:
        for plot_id, (caption, draw) in READS_PLOTS.items():
            parts.append(figure_html(plot_id, caption, draw(results)))
    if results.watch is not None:
        for plot_id, (caption, draw) in WATCH_PLOTS.items():
            parts.append(figure_html(plot_id, caption, draw(results)))
    csv_names = ", ".join(CSV_FILES + ((WATCH_CSV,) if results.watch is not None else ()))
    parts += [
        f"<footer>Figures as in report.json (schema {SCHEMA}); time series in {csv_names}."
        "</footer>",
        "</body>",
        "</html>",
    ]
    return "\n".join(parts) + "\n"


def write_html(results: Results, path: str | Path) -> Path:
    """Write report.html atomically; returns the path written."""
    return atomic_write_text(Path(path), render_html(results))
