"""Hostile timeline files: each is a TimelineError naming the file, the line and the limit
(through the CLI: one line, exit 2), never a traceback, never read whole, never echoed whole
(issue 16, "Files")."""

from __future__ import annotations

import os
import tracemalloc
from pathlib import Path

import pytest
from click.testing import CliRunner

from simulator.cli import main
from simulator.model.city import City
from simulator.scenario import load_scenario
from simulator.timeline import TimelineError, read_jsonl

TINY = Path(__file__).parents[1] / "streams" / "tiny.yaml"
GOOD = '{"t": 0, "kind": "night"}\n'


@pytest.fixture(scope="module")
def city() -> City:
    return City.of(load_scenario(TINY))


def error(path: Path | str, city: City | None = None, **kw: int) -> str:
    with pytest.raises(TimelineError) as err:
        list(read_jsonl(path, city.names if city else None, **kw))
    text = str(err.value)
    assert "\n" not in text and len(text) < 400, text[:500]
    return text


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"t": 1, "kind": "camera_down", "camera": []}', "camera: expected a name"),
        ('{"t": 1, "kind": "camera_down", "camera": {"a": 1}}', "camera: expected a name"),
        ('{"t": 1, "kind": "link_down", "link": 5}', "link: expected a name"),
        ('{"t": 1, "kind": "activity", "district": 7}', "district: expected a name"),
        ('{"t": 1, "kind": "server_down", "server": true}', "server: expected a name"),
        ('{"t": 1, "kind": []}', "kind: expected the name of an event kind, got []"),
        ('{"t": NaN, "kind": "night"}', "NaN is not a number"),
        ('{"t": Infinity, "kind": "night"}', "Infinity is not a number"),
        ('{"t": -Infinity, "kind": "night"}', "-Infinity is not a number"),
        ('{"t": 1e999, "kind": "night"}', "numbers must be finite"),
        ('{"t": 1' + "0" * 5000 + ', "kind": "night"}', "5,001 digits (at most 40)"),
        ('{"t": 1, "kind": "night", "params": ' + "[" * 50_000, "nested deeper than 32"),
        ('{"t": 1, "kind": "night", "params": ' + '{"a": ' * 5000, "nested deeper than 32"),
    ],
    ids=["camera []", "camera {}", "link 5", "district 7", "server true", "kind []", "NaN",
         "Infinity", "-Infinity", "1e999", "5000 digits", "deep [", "deep {"],
)  # fmt: skip
def test_a_hostile_line_is_one_error_naming_file_and_line(
    city: City, tmp_path: Path, line: str, message: str
) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(GOOD + line + "\n")
    for names in (city, None):
        text = error(path, names)
        assert text.startswith(f"{path}:2: "), text
        assert message in text, text


def test_a_long_parameter_name_is_not_echoed_whole(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    line = '{"t": 1, "kind": "jitter", "camera": "c", "params": {"' + "m" * 60_000 + '": 1}}'
    path.write_text(GOOD + line + "\n")
    assert "unknown parameter 'mmmm" in error(path)


def test_invalid_utf8_is_named_by_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(GOOD.encode() + b'{"t": 1, "kind": "ni\xffght"}\n')
    assert error(path).startswith(f"{path}:2: not UTF-8 text (byte 0xff)")


def test_a_long_camera_id_is_not_echoed_whole(city: City, tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(GOOD + '{"t": 1, "kind": "camera_down", "camera": "' + "x" * 60_000 + '"}\n')
    text = error(path, city)
    assert "unknown camera 'xxxx" in text and "(60,000 characters)" in text


def test_a_line_longer_than_the_limit_is_refused_without_reading_it_whole(tmp_path: Path) -> None:
    path = tmp_path / "long.jsonl"
    path.write_text(GOOD + '{"t": 1, "kind": "camera_down", "camera": "' + "x" * 20_000_000)
    tracemalloc.start()
    try:
        text = error(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert text == f"{path}:2: longer than 64 KiB, the limit for a line"
    assert peak < 2_000_000, peak


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_dev_zero_ends_at_the_first_line() -> None:
    assert error("/dev/zero") == "/dev/zero:1: longer than 64 KiB, the limit for a line"


def test_a_timeline_past_its_size_limit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    path.write_text(GOOD * 100)
    assert len(list(read_jsonl(path, max_bytes=len(GOOD) * 100))) == 100
    text = error(path, max_bytes=len(GOOD) * 50)
    assert (
        text
        == f"{path}:51: the file is larger than {len(GOOD) * 50} bytes, the limit for a timeline"
    )


def test_through_the_cli_each_is_one_line_and_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(GOOD + '{"t": 1, "kind": "link_down", "link": 5}\n')
    for bad in (path, "/dev/zero"):
        r = CliRunner().invoke(main, ["serve", str(TINY), "--timeline", str(bad)])
        assert r.exit_code == 2, (r.exit_code, r.output[-300:])
        assert r.stdout == "" and len(r.stderr.splitlines()) == 1, r.stderr[-300:]
        assert r.stderr.startswith(f"camsim: error: {bad}:"), r.stderr
