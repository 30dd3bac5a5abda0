"""Hostile scenario files: each is one line naming the file and the limit, exit 2, never a
traceback, and never a value echoed back whole (issue 16, "Files")."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from simulator.cli import main
from simulator.limits import SCENARIO_BYTES
from simulator.scenario import ScenarioError, load_scenario

DATA = Path(__file__).parent.parent / "data"
BASE = (DATA / "cbr_city.yaml").read_text()


def validate(path: Path | str):
    return CliRunner().invoke(main, ["validate", str(path)])


def one_line(result, path: Path | str, *fragments: str) -> str:
    assert result.exit_code == 2, (result.exit_code, result.output[-500:])
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr[-2000:]
    assert lines[0].startswith(f"camsim: error: {path}: "), lines[0][:300]
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0][:300])
    assert len(lines[0]) < 400, len(lines[0])
    return lines[0]


def write(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "city.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_dev_zero_is_read_only_up_to_the_limit() -> None:
    one_line(validate("/dev/zero"), "/dev/zero", "larger than 4 MiB")


def test_a_file_past_the_size_limit_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    path = write(tmp_path, BASE + "#" * SCENARIO_BYTES)
    one_line(validate(path), path, "larger than 4 MiB, the limit for a scenario")


@pytest.mark.parametrize(
    ("old", "new", "fragments"),
    [
        ("seed: 11}", "seed: 1" + "0" * 5000 + "}", ("line 5", "5,001 digits", "at most 40")),
        ("name: CBR test city", "name: " + "[" * 5000 + "]" * 5000, ("deeper than 32",)),
        ("name: CBR test city", "name: " + "{a: " * 5000 + "1" + "}" * 5000, ("deeper than 32",)),
        ("mtbf_h: 1.0e+12, mttr_h: 1}\n  - name: south", "mtbf_h: .inf, mttr_h: 1}\n  - name: "
         "south", ("'.inf'", "numbers must be finite")),
        ("start: 2026-03-02T00:00:00", "start: 2026-02-30",
         ("simulation.start", "day is out of range for month", "2026-02-30")),
        ("start: 2026-03-02T00:00:00", "start: 2026-03-02T25:00:00",
         ("simulation.start", "hour must be in 0..23")),
        ("country: FR", "country: " + "F" * 1_000_000, ("country", "1,000,000 characters")),
    ],
    ids=["5000-digit int", "deep lists", "deep maps", "inf", "feb-30", "T25", "long value"],
)  # fmt: skip
def test_hostile_values_are_one_line(tmp_path: Path, old: str, new: str, fragments) -> None:
    assert old in BASE
    path = write(tmp_path, BASE.replace(old, new, 1))
    one_line(validate(path), path, *fragments)
    with pytest.raises(ScenarioError):
        load_scenario(path)


def test_an_alias_bomb_is_refused_before_it_expands(tmp_path: Path) -> None:
    bomb = "x0: &x0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
        f"x{i}: &x{i} [{', '.join([f'*x{i - 1}'] * 9)}]\n" for i in range(1, 9)
    )
    assert len(bomb) < 1500
    path = write(tmp_path, bomb + BASE)
    one_line(validate(path), path, "expands to more than 1,000,000 values")


def test_many_aliases_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "x: &x 1\ny: [" + ", ".join(["*x"] * 500) + "]\n" + BASE)
    one_line(validate(path), path, "more than 100 aliases")


def test_a_recursive_alias_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, BASE.replace("name: CBR test city", "name: &n [*n]"))
    one_line(validate(path), path, "refers to its own parent")


def test_invalid_utf8_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, BASE.encode().replace(b"CBR", b"C\xffR", 1))
    one_line(validate(path), path, "not UTF-8", "0xff")


def test_a_scenario_with_a_few_anchors_still_loads(tmp_path: Path) -> None:
    plain = "reliability: {mtbf_h: 1.0e+12, mttr_h: 1}"
    text = BASE.replace(plain, "reliability: &r {mtbf_h: 1.0e+12, mttr_h: 1}", 1)
    text = text.replace(plain, "reliability: *r", 1)
    assert "*r" in text
    assert load_scenario(write(tmp_path, text)).camera_count == 5


@pytest.mark.parametrize("text", ['"inf"', '"NaN"', "-.inf"])
def test_infinite_numbers_are_refused_as_text_too(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, BASE.replace("mttr_h: 1}\n  - name: south", f"mttr_h: {text}}}\n"
                                        "  - name: south", 1))  # fmt: skip
    one_line(validate(path), path, "finite")
