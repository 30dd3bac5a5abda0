"""The reporting layer: reads a Results and writes the summary, report.json, CSVs and report.html.

It never computes model quantities; it formats, checks against limits and plots.
"""

from __future__ import annotations

from pathlib import Path

from simulator.model.results import Results
from simulator.report.csvreport import write_csv
from simulator.report.files import atomic_write_text
from simulator.report.html import write_html
from simulator.report.jsonreport import SCHEMA, to_json_dict, write_json
from simulator.report.summary import summary_text

__all__ = [
    "SCHEMA",
    "summary_text",
    "to_json_dict",
    "write_csv",
    "write_html",
    "write_json",
    "write_report",
]


def write_report(results: Results, out_dir: str | Path) -> list[Path]:
    """Write summary.txt, report.json, the CSV files and report.html into out_dir.

    Each file is written to a temporary name in out_dir and renamed into place, so a reader
    never sees a half-written file. Returns the paths in the order written.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [
        atomic_write_text(out / "summary.txt", summary_text(results)),
        write_json(results, out / "report.json"),
    ]
    paths += write_csv(results, out)
    paths.append(write_html(results, out / "report.html"))
    return paths
