"""The plain-text summary printed to the terminal after a run."""

from __future__ import annotations

import textwrap

from simulator.model.results import Results
from simulator.report.checks import (
    MAX_CAMERAS_PER_OPERATOR,
    MAX_MONITORS_PER_OPERATOR,
    findings,
)
from simulator.report.tables import FLAG, Table, all_tables, headline

WIDTH = 100
"""Widest line the summary should produce."""


def render_table(table: Table) -> list[str]:
    """A table as aligned text lines; flagged rows start with the flag marker."""
    cols = len(table.columns)
    widths = [len(c) for c in table.columns]
    for row in table.rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))
    align = table.alignment()

    def line(cells: list[str], mark: str) -> str:
        parts = [
            cells[i].ljust(widths[i]) if align[i] == "l" else cells[i].rjust(widths[i])
            for i in range(cols)
        ]
        return f"{mark} " + "  ".join(parts).rstrip()

    out = [table.title, line(table.columns, " "), "  " + "-" * (sum(widths) + 2 * (cols - 1))]
    out += [line(r, FLAG if f else " ") for r, f in zip(table.rows, table.flagged, strict=True)]
    return out


def summary_text(results: Results) -> str:
    """The run's summary: headline, sizing, links, recording, servers, window, operators (when
    the run has them), warnings."""
    head = "  ".join(f"{k}: {v}" for k, v in headline(results))
    lines = ["camsim sizing report", *textwrap.wrap(head, WIDTH), ""]
    for table in all_tables(results):
        lines += render_table(table)
        lines.append("")
    found = findings(results)
    if found:
        lines.append("Warnings")
        for w in found:
            lines += textwrap.wrap(
                w, WIDTH, initial_indent=f"{FLAG} ", subsequent_indent="  ", break_on_hyphens=False
            )
    else:
        lines.append("Warnings: none")
    legend = (
        f"({FLAG} = over a limit: link p99 > {results.sizing.link_planning_load:.0%}, any loss; "
        "a server's p99 ingest, "
        f"streams, IOPS or MB/s above the {results.sizing.planning_load:.0%} planning line "
        "servers needed size to, or its storage; load% = a server's highest p99 share of a limit)"
    )
    lines += textwrap.wrap(legend, WIDTH, subsequent_indent=" ")
    if results.watch is not None:
        lines.append(
            f"({FLAG} operators: more than {MAX_CAMERAS_PER_OPERATOR} cameras or "
            f"{MAX_MONITORS_PER_OPERATOR} monitors each, hours with nobody on duty)"
        )
    return "\n".join(lines) + "\n"
