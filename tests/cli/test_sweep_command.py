"""`camsim sweep`: a grid of --vary fields, its CSV and HTML, progress, year-aware runs, a Dask
scheduler, and user mistakes (one line, exit 2, nothing written)."""

from __future__ import annotations

import base64
import re
import socket
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from simulator.cli import main
from simulator.report.sweep_plots import SWEEP_PLOTS
from tests.test_cli import assert_one_line_error

ON_DUTY = "operators.on_duty=" + ",".join(f"[{','.join([str(n)] * 24)}]" for n in (1, 3))


def camsim(*args: object):
    return CliRunner().invoke(main, [str(a) for a in args])


def _csv(path: Path) -> tuple[list[str], list[list[str]]]:
    header, *rows = path.read_text().splitlines()
    return header.split(","), [row.split(",") for row in rows]


def test_a_two_field_grid_runs_every_combination_in_order(data_dir, tmp_path):
    """Retention × the north cameras' bitrate: storage ∝ days × (3 × bitrate + 2 × 2.5 Mbps),
    rows with the first field varying slowest, and a progress line per run."""
    out = tmp_path / "grid.csv"
    result = camsim(
        "sweep", data_dir / "cbr_city.yaml", "--vary", "recording.retention_days=10,20",
        "--vary", "cameras.0.bitrate.target_mbps=4,8,12", "--days", 0.05, "--jobs", 2,
        "--csv", out,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "2 × 3 = 6 points" in result.stderr
    assert [f"  {n}/6 runs done" for n in range(1, 7)] == re.findall(r"  \d/6 runs done",
                                                                      result.stderr)  # fmt: skip
    header, rows = _csv(out)
    assert header[:3] == ["recording.retention_days", "cameras.0.bitrate.target_mbps", "cameras"]
    assert [r[:2] for r in rows] == [["10", "4"], ["10", "8"], ["10", "12"],
                                     ["20", "4"], ["20", "8"], ["20", "12"]]  # fmt: skip
    tb = [float(r[header.index("storage_needed_tb")]) for r in rows]
    for (days, mbps), got in zip([(int(r[0]), int(r[1])) for r in rows], tb, strict=True):
        assert got / tb[0] == pytest.approx(days * (3 * mbps + 5) / (10 * (3 * 4 + 5)), rel=0.01)
    table = [line.split()[:2] for line in result.stdout.splitlines()[3:9]]
    assert table == [r[:2] for r in rows]  # the terminal table, in the same order


def test_the_html_has_one_plot_per_key_figure(data_dir, tmp_path):
    page = tmp_path / "sweep.html"
    result = camsim("sweep", data_dir / "incidents_city.yaml", "--vary",
                    "incidents.per_camera_day=1,4", "--vary", ON_DUTY, "--replications", 2,
                    "--no-year", "--html", page, "-q")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "runs done" not in result.stderr  # -q
    html = page.read_text()
    ids = re.findall(r'<figure id="([^"]+)"', html)
    assert ids == list(SWEEP_PLOTS)  # storage, servers, busiest link, availability, incidents
    pngs = [base64.b64decode(m) for m in re.findall(r"base64,([^\"]+)\"", html)]
    assert len(pngs) == len(ids) and all(p.startswith(b"\x89PNG\r\n\x1a\n") for p in pngs)
    assert len(set(pngs)) == len(pngs)
    assert "seed 17" in html and "2 replications" in html and "95 %" in html
    assert html.count("<tr") == 1 + 4  # the sweep table: heading and one row per point
    # without operators, no incidents plot; without replications, one run per point
    result = camsim("sweep", data_dir / "cbr_city.yaml", "--vary", "recording.retention_days=10",
                    "--days", 0.05, "--html", page, "-q")  # fmt: skip
    assert result.exit_code == 0, result.output
    html = page.read_text()
    assert re.findall(r'<figure id="([^"]+)"', html) == [k for k in SWEEP_PLOTS
                                                          if k != "incidents-seen"]  # fmt: skip
    assert "one run per point" in html


def test_sweep_sizes_the_year_by_default_like_run_and_no_year_the_span(data_dir, tmp_path):
    """Each point sized for the year, as `camsim run` does (the span was the default);
    --no-year and --days give the scenario's span."""
    from simulator.cli.common import load
    from simulator.model.sizing import simulate
    from simulator.model.year import size_year

    city = data_dir / "year_city.yaml"
    tb = {}
    for flag in ((), ("--year",), ("--no-year",), ("--days", 1)):
        out = tmp_path / f"{len(tb)}.csv"
        args = ("sweep", city, "--vary", "recording.retention_days=30", "--csv", out, "-q")
        result = camsim(*args, *flag)
        assert result.exit_code == 0, result.output
        header, rows = _csv(out)
        tb[flag] = float(rows[0][header.index("storage_needed_tb")])
    scenario = load(str(city), ("recording.retention_days=30",))
    year = size_year(scenario).sizing.storage_needed_tb
    span = simulate(scenario).sizing.storage_needed_tb
    assert tb[()] == tb[("--year",)] == pytest.approx(year, rel=1e-5)
    assert tb[("--no-year",)] == tb[("--days", 1)] == pytest.approx(span, rel=1e-5)
    assert span != pytest.approx(year, rel=1e-3)  # the day alone stores less


def test_compare_sizes_the_year_by_default_like_run(data_dir):
    from simulator.cli.common import load
    from simulator.model.sizing import simulate
    from simulator.model.year import size_year

    city = data_dir / "year_city.yaml"

    def storage(*flags: object) -> float:
        result = camsim("compare", city, city, *flags, "-q")
        assert result.exit_code == 0, result.output
        line = next(x for x in result.stdout.splitlines() if "storage needed (TB)" in x)
        return float(line.split()[-3])

    scenario = load(str(city))
    year = round(size_year(scenario).sizing.storage_needed_tb, 1)
    assert storage() == storage("--year") == year
    assert storage("--no-year") == round(simulate(scenario).sizing.storage_needed_tb, 1) != year
    assert_one_line_error(camsim("compare", city, city, "--year", "--days", 1), "--year", "--days")


def test_a_dask_scheduler_gives_the_local_processes_figures(data_dir, tmp_path):
    from distributed import LocalCluster

    args = ("sweep", data_dir / "incidents_city.yaml", "--vary", "incidents.per_camera_day=1,4",
            "--vary", ON_DUTY, "--replications", 2, "--no-year")  # fmt: skip
    local = camsim(*args, "--csv", tmp_path / "local.csv")
    assert local.exit_code == 0, local.output
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, scheduler_kwargs={"dashboard": False}
    ) as cluster:
        dask = camsim(*args, "--scheduler", cluster.scheduler_address, "--csv", tmp_path / "d.csv")
        ran = sum(w.state.executed_count for w in cluster.workers.values())
    assert ran == 8  # the 2 × 2 points × 2 replications ran on the cluster's workers
    assert dask.exit_code == 0, dask.output
    assert "8/8 runs done" in dask.stderr
    assert dask.stdout.replace("d.csv", "local.csv") == local.stdout
    assert (tmp_path / "d.csv").read_bytes() == (tmp_path / "local.csv").read_bytes()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_scheduler_out_of_reach_or_no_dask_is_one_line(data_dir, monkeypatch, tmp_path):
    import simulator.cli.runs as runs

    monkeypatch.setattr(runs, "CONNECT_TIMEOUT_S", 1.0)
    out = tmp_path / "sweep.csv"
    args = ("sweep", data_dir / "cbr_city.yaml", "--vary", "recording.retention_days=10",
            "--days", 0.05, "--csv", out)  # fmt: skip
    address = f"tcp://127.0.0.1:{_free_port()}"
    assert_one_line_error(camsim(*args, "--scheduler", address), address, "cannot reach")
    assert_one_line_error(camsim(*args, "--scheduler", "nowhere"), "nowhere", "cannot reach")
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if dask were not installed
    assert_one_line_error(camsim(*args, "--scheduler", address), "pip install 'camsim[dask]'")
    assert not out.exists()


@pytest.mark.parametrize(
    ("vary", "extra", "fragments"),
    [
        (["recording.retention_dayz=10,20"], [], ["cbr_city.yaml", "retention_dayz"]),
        (["recording.retention_days=ten"], [], ["cbr_city.yaml", "retention_days"]),
        (["recording.retention_days"], [], ["--vary", "PATH=V1,V2"]),
        (["recording.retention_days="], [], ["--vary", "no values"]),
        (["recording.retention_days=1,2", "recording.retention_days=3"], [], ["same field"]),
        (["recording.retention_days=1,2"], ["--set", "recording.retention_days=3"], ["--set"]),
        (["simulation.days=1,2"], ["--year"], ["--year", "simulation.days"]),
        (["recording.retention_days=1"], ["--year", "--days", 1], ["--year", "--days"]),
        (["recording.retention_days=1"], ["--jobs", 2, "--scheduler", "x:1"], ["--jobs"]),
        ([f"recording.retention_days={','.join(map(str, range(1, 12)))}",
          "cameras.0.count=" + ",".join(map(str, range(1, 11)))], [],
         ["11 × 10 = 110 points = 110 runs", "limit of 100 runs", "--yes"]),
        (["recording.retention_days=1,2,3,4,5,6,7,8,9,10,11"], ["--replications", 10],
         ["11 points × 10 replications = 110 runs", "--yes"]),
    ],
)  # fmt: skip
def test_mistakes_are_one_line_and_write_nothing(data_dir, tmp_path, vary, extra, fragments):
    out, page = tmp_path / "s.csv", tmp_path / "s.html"
    args = [a for v in vary for a in ("--vary", v)]
    result = camsim("sweep", data_dir / "cbr_city.yaml", *args, *extra, "--csv", out,
                    "--html", page)  # fmt: skip
    assert_one_line_error(result, *fragments)
    assert not out.exists() and not page.exists()


def test_yes_runs_a_grid_over_the_limit(data_dir, monkeypatch):
    import simulator.sweep

    monkeypatch.setattr(simulator.sweep, "MAX_RUNS", 2)
    args = ("sweep", data_dir / "cbr_city.yaml", "--vary", "recording.retention_days=10,20,30",
            "--days", 0.05)  # fmt: skip
    assert_one_line_error(camsim(*args), "3 points = 3 runs", "limit of 2 runs", "--yes")
    result = camsim(*args, "--yes")
    assert result.exit_code == 0, result.output
    assert "3/3 runs done" in result.stderr
