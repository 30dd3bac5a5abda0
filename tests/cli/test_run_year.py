"""`camsim run` is year-aware unless a span is given: the summary names the binding window."""

from __future__ import annotations

import json

from click.testing import CliRunner

from simulator.cli import main


def camsim(*args: object):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_run_without_days_names_the_binding_window_of_the_year(data_dir, tmp_path):
    out = tmp_path / "year"
    result = camsim("run", data_dir / "cbr_city.yaml", "--out", out, "-q")
    assert result.exit_code == 0, result.output
    assert "Year: where the sizing binds" in result.stdout
    report = json.loads((out / "report.json").read_text())
    year = report["year"]
    assert year["days"] == 365 and year["coarse_resolution_s"] == 60
    window = year["storage_window"]
    assert window["days"] == 30
    assert window["start"][:10] in result.stdout
    assert year["peak_day"]["date"][:10] in result.stdout
    assert report["sizing"]["binding"] in year["binding_where"]


def test_run_with_days_or_no_year_runs_the_scenario_span_as_before(data_dir, tmp_path):
    for args in (("--days", 0.25), ("--no-year",)):
        out = tmp_path / args[0]
        result = camsim("run", data_dir / "cbr_city.yaml", "--out", out, "-q", *args)
        assert result.exit_code == 0, result.output
        assert "Year:" not in result.stdout
        assert "year" not in json.loads((out / "report.json").read_text())
