"""The `camsim` command line: validate and run, outputs, and user mistakes (exit 2, one line)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from simulator.cli import main

ROOT = Path(__file__).parent.parent
BUNDLED = ROOT / "scenarios"
REPORT_FILES = {
    "summary.txt",
    "report.json",
    "links.csv",
    "servers.csv",
    "storage.csv",
    "cameras.csv",
    "report.html",
}


def camsim(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


def assert_one_line_error(result, *fragments: str) -> None:
    assert result.exit_code == 2, (result.exit_code, result.output)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("camsim: error: ")
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "name, cameras", [("strasbourg.yaml", 450), ("strasbourg-expansion.yaml", 600)]
)
def test_validate_bundled_scenarios(name, cameras):
    result = camsim("validate", BUNDLED / name)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert f"{BUNDLED / name}: ok" in result.stdout
    assert f"{cameras} cameras" in result.stdout
    assert "30-day retention" in result.stdout


@pytest.fixture(scope="module")
def tiny_run(data_dir, tmp_path_factory):
    """`camsim run` on the CBR city for 6 hours, seed 5, one override."""
    out = tmp_path_factory.mktemp("run") / "report"
    result = camsim(
        "run", data_dir / "cbr_city.yaml", "--out", out, "--seed", 5, "--days", 0.25,
        "--set", "cameras.0.count=4", "-q",
    )  # fmt: skip
    return result, out


def test_run_writes_the_report_files(tiny_run):
    result, out = tiny_run
    assert result.exit_code == 0, result.output
    assert {p.name for p in out.iterdir()} == REPORT_FILES  # no temporary files left over
    for name in REPORT_FILES:
        assert (out / name).stat().st_size > 0, name
    html = (out / "report.html").read_text()
    assert html.lstrip().lower().startswith("<!doctype html") and "</html>" in html
    for name in ("links.csv", "servers.csv", "storage.csv", "cameras.csv"):
        lines = (out / name).read_text().splitlines()
        assert len(lines) >= 2 and "," in lines[0], name
    assert len((out / "cameras.csv").read_text().splitlines()) == 1 + 6


def test_run_options_and_overrides_reach_the_report(tiny_run):
    result, out = tiny_run
    report = json.loads((out / "report.json").read_text())
    assert report["schema"] == "camsim.report/1"
    assert report["run"] == {
        "scenario": "CBR test city",
        "seed": 5,
        "cameras": 6,  # --set cameras.0.count=4: 4 + 2
        "days": 0.25,
    }
    # 4 × 4 Mbps + 2 × 2.5 Mbps, CBR: 21 Mbps → 0.2268 TB a day
    assert report["sizing"]["daily_write_tb"] == pytest.approx(21e6 / 8 * 86400 / 1e12, rel=1e-5)
    assert report["recording"]["availability"] == 1
    # the summary goes to stdout and names what the brief asks for
    for word in ("storage", "servers", "availability", "core"):
        assert word in result.stdout.lower(), word


def test_run_output_is_independent_of_the_output_directory(data_dir, tmp_path, tiny_run):
    _, first = tiny_run
    again = tmp_path / "elsewhere"
    result = camsim(
        "run", data_dir / "cbr_city.yaml", "--out", again, "--seed", 5, "--days", 0.25,
        "--set", "cameras.0.count=4", "-q",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (again / "report.json").read_bytes() == (first / "report.json").read_bytes()


def test_run_with_out_pointing_at_a_file_writes_nothing(data_dir, tmp_path):
    target = tmp_path / "report.json"
    target.write_text("keep me")
    result = camsim("run", data_dir / "cbr_city.yaml", "--out", target, "--days", 0.1, "-q")
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert target.read_text() == "keep me"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def test_run_with_out_pointing_at_a_file_says_so_in_one_line(data_dir, tmp_path):
    target = tmp_path / "report.json"
    target.write_text("keep me")
    result = camsim("run", data_dir / "cbr_city.yaml", "--out", target, "--days", 0.1, "-q")
    assert_one_line_error(result, str(target), "not a directory")


def test_run_with_out_below_a_file_fails_cleanly(data_dir, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = camsim(
        "run", data_dir / "cbr_city.yaml", "--out", blocker / "sub", "--days", 0.1, "-q"
    )
    assert_one_line_error(result, str(blocker / "sub"), "cannot write")
    assert [p.name for p in tmp_path.iterdir()] == ["file"]
    assert blocker.read_text() == "x"


def test_run_with_a_bad_scenario_creates_no_output(data_dir, tmp_path):
    out = tmp_path / "out"
    result = camsim(
        "run", data_dir / "cbr_city.yaml", "--out", out, "--set", "recording.retention_days=31"
    )
    assert_one_line_error(result, "cbr_city.yaml", "recording.retention_days", "at most 30")
    assert not out.exists()


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["--set", "simulation.days"], ["expected path=value"]),
        (["--set", "cameras.5.count=1"], ["cameras.5", "index must be 0..1"]),
        (["--set", "cameras.0.district=east"], ["cameras.0.district", "'east'"]),
        (["--days", "400"], ["simulation.days", "less than or equal to 366"]),
    ],
)
def test_run_rejects_bad_overrides(data_dir, tmp_path, args, fragments):
    out = tmp_path / "out"
    result = camsim("run", data_dir / "cbr_city.yaml", "--out", out, "-q", *args)
    assert_one_line_error(result, *fragments)
    assert not out.exists()


def test_run_missing_scenario_file(tmp_path):
    out = tmp_path / "out"
    result = camsim("run", tmp_path / "missing.yaml", "--out", out)
    assert_one_line_error(result, str(tmp_path / "missing.yaml"), "no such file")
    assert not out.exists()


# A couple through a real process: the console entry point, exit status and stderr ----------


def _camsim_process(*args: str) -> subprocess.CompletedProcess:
    script = Path(sys.executable).parent / "camsim"
    cmd = (
        [str(script)]
        if script.exists()
        else [sys.executable, "-c", "from simulator.cli import main; main()"]
    )
    return subprocess.run(
        cmd + [str(a) for a in args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "NO_COLOR": "1"},
    )


def test_process_yaml_syntax_error_exits_2_with_one_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("name: [x\n")
    done = _camsim_process("validate", path)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and done.stderr.endswith("\n")
    assert done.stderr.startswith(f"camsim: error: {path}: YAML syntax error")
    assert "Traceback" not in done.stderr


def test_process_validate_ok_and_unknown_key(data_dir):
    done = _camsim_process("validate", data_dir / "cbr_city.yaml")
    assert done.returncode == 0, done.stderr
    assert "ok" in done.stdout and done.stderr == ""
    done = _camsim_process("validate", data_dir / "cbr_city.yaml", "--set", "simulation.speed=2")
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"camsim: error: {data_dir / 'cbr_city.yaml'}: simulation.speed: unknown key 'speed' "
        "(allowed: days, frame_window_s, resolution_s, seed, start)"
    ]


def test_compare_shows_what_more_cameras_cost(tmp_path: Path) -> None:
    """Doubling every camera group doubles the CBR city's storage; nothing is lost in either."""
    import yaml

    base = ROOT / "tests" / "data" / "cbr_city.yaml"
    data = yaml.safe_load(base.read_text())
    for group in data["cameras"]:
        group["count"] *= 2
    other = tmp_path / "double.yaml"
    other.write_text(yaml.safe_dump(data))
    result = camsim("compare", base, other, "--days", "0.05", "-q")
    assert result.exit_code == 0, result.output
    rows = {}
    for line in result.output.strip().splitlines()[3:]:
        label, *cells = line[2:].rsplit(None, 3)
        rows[label] = [float(c.replace(",", "")) for c in cells]
    assert rows["cameras"] == [5, 10, 5]
    base_tb, other_tb, change = rows["storage needed (TB)"]  # one decimal: 2 % tolerance
    assert other_tb == pytest.approx(2 * base_tb, rel=0.02)
    assert change == pytest.approx(base_tb, rel=0.02)
    assert rows["recording availability %"][:2] == [100, 100]


def test_compare_rejects_a_bad_second_scenario(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ncameras: [\n")
    assert_one_line_error(
        camsim("compare", BUNDLED / "strasbourg.yaml", bad, "-q"), str(bad), "YAML syntax"
    )


def test_compare_applies_set_to_both_scenarios(tmp_path: Path) -> None:
    """--set reaches both runs: half the retention, half of both cities' storage."""
    base = ROOT / "tests" / "data" / "cbr_city.yaml"
    once = camsim("compare", base, base, "--days", "0.05", "-q")
    twice = camsim(
        "compare", base, base, "--days", "0.05", "-q", "--set", "recording.retention_days=15"
    )
    assert once.exit_code == 0 and twice.exit_code == 0, once.output + twice.output

    def storage(output: str) -> list[float]:
        line = next(x for x in output.splitlines() if "storage needed (TB)" in x)
        return [float(c.replace(",", "")) for c in line.rsplit(None, 3)[1:3]]

    a, b = storage(once.output), storage(twice.output)
    assert a[0] == a[1] and b[0] == b[1]
    assert b[0] == pytest.approx(a[0] / 2, rel=0.02)
