"""`camsim run`: year-aware unless a span is given; --replications gives each key figure with
its confidence interval."""

from __future__ import annotations

import json

from click.testing import CliRunner

from simulator.cli import main
from simulator.report.summary import WIDTH


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
    summary = (out / "summary.txt").read_text()
    assert max(len(line) for line in summary.splitlines()) <= WIDTH


def test_run_with_days_or_no_year_runs_the_scenario_span_as_before(data_dir, tmp_path):
    for args in (("--days", 0.25), ("--no-year",)):
        out = tmp_path / args[0]
        result = camsim("run", data_dir / "cbr_city.yaml", "--out", out, "-q", *args)
        assert result.exit_code == 0, result.output
        assert "Year:" not in result.stdout
        assert "year" not in json.loads((out / "report.json").read_text())


def test_run_with_replications_gives_each_key_figure_with_its_interval(data_dir, tmp_path):
    out = tmp_path / "reps"
    args = ("run", data_dir / "incidents_city.yaml", "--out", out, "--no-year", "-q")
    result = camsim(*args, "--replications", 3, "--jobs", 2)
    assert result.exit_code == 0, result.output
    assert "Key figures over 3 replications" in result.stdout
    report = json.loads((out / "report.json").read_text())
    reps = report["replications"]
    assert reps["count"] == 3 and reps["seeds"][0] == report["run"]["seed"]
    inc = reps["figures"]["incidents"]
    assert inc["low"] <= inc["mean"] <= inc["high"] and len(inc["values"]) == 3
    assert report["watch"]["incidents"] == inc["values"][0]  # the tables are replication 1's
    # the same replications again: the same figures (seeds from the tree, not the clock)
    again = camsim(*args[:3], tmp_path / "again", *args[4:], "--replications", 3)
    assert again.exit_code == 0, again.output
    assert (tmp_path / "again" / "report.json").read_text() == (out / "report.json").read_text()


def test_replications_below_two_is_one_line_and_exit_2(data_dir, tmp_path):
    result = camsim("run", data_dir / "cbr_city.yaml", "--out", tmp_path, "--replications", 1)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "--replications" in result.output


def test_compare_and_sweep_with_replications_give_intervals(data_dir, tmp_path):
    city = data_dir / "incidents_city.yaml"
    result = camsim("compare", city, city, "--set", "incidents.per_camera_day=2",
                    "--replications", 3, "--no-year", "-q")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "3 paired replications" in result.stdout
    incidents = next(line for line in result.stdout.splitlines() if "incidents  " in line)
    assert incidents.split()[-1] == "identical"  # the same city twice, the same seeds
    csv = tmp_path / "sweep.csv"
    result = camsim("sweep", city, "--vary", "incidents.per_camera_day=1,4",
                    "--replications", 3, "--no-year", "--csv", csv)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "over 3 replications" in result.stdout and "±" in result.stdout
    header, *rows = csv.read_text().splitlines()
    assert "detected_per_year_low" in header and len(rows) == 2


def test_run_with_year_and_days_is_refused_before_anything_runs(data_dir, tmp_path):
    out = tmp_path / "both"
    for args in (("--days", 1), ("--set", "simulation.days=1")):
        result = camsim("run", data_dir / "cbr_city.yaml", "--out", out, "-q", "--year", *args)
        assert result.exit_code == 2, result.output
        assert "--year with --days" in result.output and len(result.output.splitlines()) == 1
        assert not out.exists()
