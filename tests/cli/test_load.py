"""`camsim loadtest`: mistakes are one line and exit 2, before any load starts."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from simulator.cli import main
from simulator.timeline.event import Event

ROOT = Path(__file__).parents[2]
TINY = ROOT / "tests" / "streams" / "tiny.yaml"
STRASBOURG = ROOT / "scenarios" / "strasbourg.yaml"


def loadtest(*args: object):
    return CliRunner().invoke(main, ["loadtest", *map(str, args)])


def assert_one_line_error(result, *fragments: str) -> None:
    assert result.exit_code == 2, (result.exit_code, result.output)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("camsim: error: ")
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


@pytest.fixture
def timeline(tmp_path: Path) -> Path:
    path = tmp_path / "actions.jsonl"
    e = Event(10.0, "live_view", "h264cam-001", params={"duration_s": 5.0, "operator": 0})
    path.write_text(e.to_json() + "\n")
    return path


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens there once closed


def test_a_host_that_is_not_an_http_url(timeline: Path) -> None:
    r = loadtest(TINY, "--target", "zoneminder", "--host", "ftp://example", "--timeline", timeline)
    assert_one_line_error(r, "--host", "http://")


def test_a_scenario_without_operators_has_nothing_to_replay() -> None:
    r = loadtest(TINY, "--target", "zoneminder", "--host", "http://127.0.0.1:1/zm")
    assert_one_line_error(r, "no operators section")


def test_an_unreachable_target(timeline: Path) -> None:
    host = f"http://127.0.0.1:{closed_port()}/zm"
    r = loadtest(TINY, "--target", "zoneminder", "--host", host, "--timeline", timeline)
    assert_one_line_error(r, f"target {host}", "Connection refused")


def test_rest_needs_a_mapping(timeline: Path) -> None:
    r = loadtest(TINY, "--target", "rest", "--host", "http://127.0.0.1:1", "--timeline", timeline)
    assert_one_line_error(r, "--mapping")


def test_a_timeline_naming_an_unknown_camera(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"t": 1, "kind": "live_view", "camera": "nope"}\n')
    r = loadtest(TINY, "--target", "zoneminder", "--host", "http://127.0.0.1:1", "--timeline", bad)
    assert_one_line_error(r, "bad.jsonl:1", "unknown camera 'nope'")


@pytest.mark.parametrize("run_time", ["10x", "m", "-5s"])
def test_a_bad_run_time(timeline: Path, run_time: str) -> None:
    r = loadtest(TINY, "--target", "zoneminder", "--host", "http://127.0.0.1:1", "--timeline",
                 timeline, "--run-time", run_time)  # fmt: skip
    assert_one_line_error(r, "--run-time")


def test_viewers_need_streams(timeline: Path) -> None:
    r = loadtest(STRASBOURG, "--target", "zoneminder", "--host", "http://127.0.0.1:1",
                 "--rtsp-viewers", "4")  # fmt: skip
    assert_one_line_error(r, "--rtsp")


def test_a_target_without_the_schedule_s_cameras(timeline: Path, tmp_path: Path) -> None:
    """The real ZoneMinder, told that only another camera is on it."""
    import subprocess

    setup = ROOT / "simulator" / "targets" / "setup" / "zoneminder.sh"
    run = subprocess.run(["bash", str(setup)], capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-1000:]
    host = run.stdout.strip().splitlines()[-1]
    cams = tmp_path / "cameras.json"
    cams.write_text('{"h264cam-002": "1"}')
    r = loadtest(TINY, "--target", "zoneminder", "--host", host, "--timeline", timeline,
                 "--camera-map", cams)  # fmt: skip
    assert_one_line_error(r, "lacks 1 camera(s)", "h264cam-001")
    cams.write_text("[1, 2]")
    r = loadtest(TINY, "--target", "zoneminder", "--host", host, "--timeline", timeline,
                 "--camera-map", cams)  # fmt: skip
    assert_one_line_error(r, "cameras.json", "expected an object")


def test_what_a_killed_loadtest_left_in_the_temp_dir_is_removed_at_the_next_start(
    tmp_path: Path,
) -> None:
    from simulator.cli.load import sweep_stale

    dead = tmp_path / "camsim-load-999999999-abc"  # no such process
    alive = tmp_path / f"camsim-load-{os.getpid()}-def"
    other = tmp_path / "camsim-load-xyz"  # not ours to judge: no pid in its name
    for d in (dead, alive, other):
        (d / "x").mkdir(parents=True)
    sweep_stale(tmp_path)
    assert not dead.exists() and alive.exists() and other.exists()
