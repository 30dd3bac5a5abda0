"""Bad scenario input → exit 2 and one line naming the file, the field path and what is allowed.

Each case is checked twice: the loader's ScenarioError (one line) and `camsim validate` through
click's CliRunner (exit code 2, exactly one line on stderr, nothing on stdout, no traceback).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from simulator.cli import main
from simulator.scenario import ScenarioError, load_scenario


@pytest.fixture(scope="module")
def base(data_dir) -> dict[str, Any]:
    """tests/data/cbr_city.yaml as data: districts north and south, FR, 30-day retention."""
    return yaml.safe_load((data_dir / "cbr_city.yaml").read_text())


def mutated(base: dict[str, Any], tmp_path: Path, change: Callable[[dict], None]) -> Path:
    data = copy.deepcopy(base)
    change(data)
    path = tmp_path / "city.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def assert_one_line_error(result, path: Path | str, *fragments: str) -> str:
    """exit 2; stderr is one line `camsim: error: FILE: ...` holding every fragment."""
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert line.startswith(f"camsim: error: {path}: "), line
    for fragment in fragments:
        assert fragment in line, (fragment, line)
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return line


def validate(path: Path | str, *args: str):
    return CliRunner().invoke(main, ["validate", str(path), *args])


def _set(path: str, value: Any) -> Callable[[dict], None]:
    def change(data: dict) -> None:
        *parents, last = path.split(".")
        node: Any = data
        for p in parents:
            node = node[int(p)] if isinstance(node, list) else node[p]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return change


def _delete(path: str) -> Callable[[dict], None]:
    def change(data: dict) -> None:
        *parents, last = path.split(".")
        node: Any = data
        for p in parents:
            node = node[int(p)] if isinstance(node, list) else node[p]
        del node[last]

    return change


CASES = {
    # unknown keys: the key, where, and the keys allowed there
    "unknown top-level key": (
        _set("colour", "red"),
        ["colour: unknown key 'colour'", "allowed:", "cameras", "network", "recording"],
    ),
    "unknown nested key": (
        _set("cameras.0.bitrate.kbps", 4000),
        ["cameras.0.bitrate.kbps: unknown key 'kbps'", "cap_factor, mode, target_mbps"],
    ),
    # wrong types
    "count not an integer": (
        _set("cameras.0.count", "many"),
        ["cameras.0.count", "integer", "'many'"],
    ),
    "days not a number": (_set("simulation.days", "two"), ["simulation.days", "number", "'two'"]),
    "codec not allowed": (
        _set("cameras.0.codec", "h266"),
        ["cameras.0.codec", "'h264'", "'h265'", "'mjpeg'", "'h266'"],
    ),
    "resolution not allowed": (
        _set("cameras.0.resolution", "1080x"),
        ["cameras.0.resolution", "1080p", "WIDTHxHEIGHT"],
    ),
    "section not a mapping": (_set("network", [1, 2]), ["network"]),
    # what camsim serve cannot serve is refused when the scenario is validated
    "MJPEG at 4k": (
        lambda d: d["cameras"][0].update(codec="mjpeg", resolution="4k"),
        ["cameras.0", "resolution: 4k (3840x2160) cannot be sent as MJPEG", "at most 2040"],
    ),
    "MJPEG at 480p": (
        lambda d: d["cameras"][0].update(codec="mjpeg", resolution="480p"),
        ["cameras.0", "854x480", "multiples of 8"],
    ),
    "odd H.264 size": (
        lambda d: d["cameras"][0].update(resolution="641x360"),
        ["cameras.0", "641x360", "even width and height"],
    ),
    "B-frames filling the GOP": (
        lambda d: d["cameras"][0].update(gop=4, gop_structure={"b_frames": 4}),
        ["cameras.0", "gop_structure.b_frames: 4 in a GOP of 4", "at most 3"],
    ),
    "B-frames in MJPEG": (
        lambda d: d["cameras"][0].update(codec="mjpeg", gop_structure={"b_frames": 1}),
        ["cameras.0", "gop_structure.b_frames", "0 for MJPEG"],
    ),
    # ranges
    "negative core capacity": (
        _set("network.core.capacity_mbps", -10),
        ["network.core.capacity_mbps", "greater than 0", "-10"],
    ),
    "negative uplink capacity": (
        _set("network.districts.0.uplink.capacity_mbps", -1),
        ["network.districts.0.uplink.capacity_mbps", "greater than 0"],
    ),
    "zero cameras": (_set("cameras.1.count", 0), ["cameras.1.count", "greater than or equal to 1"]),
    "raid6 with 3 disks": (
        _set("recording.servers.0.disks", {"count": 3, "raid": "raid6"}),
        ["recording.servers.0.disks", "raid6 needs at least 4 disks"],
    ),
    # failover and disks
    "negative standby count": (
        _set("recording.failover", {"standby": -1}),
        ["recording.failover.standby", "greater than or equal to 0", "-1"],
    ),
    "negative failover delay": (
        _set("recording.failover", {"standby": 1, "delay_s": -5}),
        ["recording.failover.delay_s", "greater than or equal to 0"],
    ),
    "zero disk MTBF": (
        _set("recording.servers.0.disks", {"mtbf_h": 0}),
        ["recording.servers.0.disks.mtbf_h", "greater than 0"],
    ),
    "degraded factor above 1": (
        _set("recording.servers.0.disks", {"degraded_write_factor": 1.5}),
        ["recording.servers.0.disks.degraded_write_factor", "less than or equal to 1"],
    ),
    "sub-stream recording not a boolean": (
        _set("recording.record_sub_streams", "twice"),
        ["recording.record_sub_streams", "boolean", "'twice'"],
    ),
    # the law
    "retention 31 days in FR": (
        _set("recording.retention_days", 31),
        ["recording.retention_days", "31 days", "FR", "at most 30 days"],
    ),
    "retention 31 days in fr (lower case)": (
        lambda d: (d.update(country="fr"), d["recording"].update(retention_days=31)),
        ["recording.retention_days", "at most 30 days"],
    ),
    # cross-references
    "unknown district": (
        _set("cameras.1.district", "nowhere"),
        ["cameras.1.district", "'nowhere'", "north, south"],
    ),
    "unknown server district": (
        _set("recording.servers.0.districts", ["north", "east"]),
        ["recording.servers.0.districts", "'east'", "north, south"],
    ),
    "server group for no district": (
        _set("recording.servers.0.districts", []),
        ["recording.servers.0.districts", "empty", "north, south"],
    ),
    "district no server group takes": (  # rec-south takes north too: south is left out
        _set("recording.servers.1.districts", ["north"]),
        [
            "cameras.1.district",
            "'south'",
            "no recording server group takes it",
            "recording.servers.N.districts",
        ],
    ),
    "repeated district": (
        _set("network.districts.1.name", "north"),
        ["network.districts", "unique", "north"],
    ),
    # required fields
    "missing network": (_delete("network"), ["network: required field is missing"]),
    "missing camera count": (_delete("cameras.0.count"), ["cameras.0.count: required field"]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_field_gives_one_line_naming_file_field_and_allowed(base, tmp_path, case):
    change, fragments = CASES[case]
    path = mutated(base, tmp_path, change)
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    message = str(err.value)
    assert "\n" not in message and message.startswith(f"{path}: ")
    assert_one_line_error(validate(path), path, *fragments)


def test_retention_over_30_days_is_allowed_outside_france(base, tmp_path):
    def change(d: dict) -> None:
        d["country"] = "DE"
        d["recording"]["retention_days"] = 31

    path = mutated(base, tmp_path, change)
    assert load_scenario(path).recording.retention_days == 31
    result = validate(path)
    assert result.exit_code == 0, result.output
    assert "31-day retention" in result.stdout


def test_retention_of_exactly_30_days_is_lawful_in_france(base, tmp_path):
    path = mutated(base, tmp_path, _set("recording.retention_days", 30))
    assert validate(path).exit_code == 0


@pytest.mark.parametrize(
    "text, fragments",
    [
        ("name: x\ncameras: [1, 2\n", ["YAML syntax error at line", "column"]),
        ("name: x\n  bad: indent\n", ["YAML syntax error at line 2"]),
        ("name: 'unterminated\n", ["YAML syntax error"]),
        ("- a\n- b\n", ["expected a mapping"]),
        ("", ["expected a mapping"]),
    ],
)
def test_yaml_syntax_errors_and_non_mappings(tmp_path, text, fragments):
    path = tmp_path / "broken.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError):
        load_scenario(path)
    assert_one_line_error(validate(path), path, *fragments)


def test_missing_file(tmp_path):
    path = tmp_path / "nowhere.yaml"
    assert_one_line_error(validate(path), path, "no such file")


def test_directory_at_the_loader(tmp_path):
    with pytest.raises(ScenarioError, match="is a directory"):
        load_scenario(tmp_path)


def test_directory_on_the_command_line(tmp_path):
    assert_one_line_error(validate(tmp_path), tmp_path, "is a directory")


def test_not_utf8(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: Sélestat\n".encode("latin-1"))
    assert_one_line_error(validate(path), path, "cannot read")


def test_recording_mode_off_unquoted_is_accepted(base, tmp_path):
    path = tmp_path / "off.yaml"
    text = yaml.safe_dump(base, sort_keys=False)
    path.write_text(text + "\n")
    data = copy.deepcopy(base)
    data["cameras"][0]["recording"] = {"mode": "off"}
    # write `mode: off` unquoted, as a user would
    path.write_text(yaml.safe_dump(data, sort_keys=False).replace("mode: 'off'", "mode: off"))
    assert "mode: off" in path.read_text()
    assert load_scenario(path).cameras[0].recording.mode == "off"


# --set overrides ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "item, fragments",
    [
        ("simulation.days", ["--set 'simulation.days'", "expected path=value"]),
        ("=3", ["empty field path"]),
        ("cameras.9.count=1", ["--set cameras.9.count", "cameras.9", "index must be 0..1"]),
        ("cameras.x.count=1", ["cameras.x", "index must be 0..1"]),
        ("name.first=1", ["name.first", "parent is not a section"]),
        ("simulation.days=-1", ["simulation.days", "greater than 0", "-1"]),
        ("simulation.speed=2", ["simulation.speed: unknown key 'speed'", "resolution_s"]),
        ("recording.retention_days=45", ["recording.retention_days", "at most 30 days"]),
        ("cameras.0.district=east", ["cameras.0.district", "'east'", "north, south"]),
    ],
)
def test_bad_set_override(data_dir, item, fragments):
    path = data_dir / "cbr_city.yaml"
    with pytest.raises(ScenarioError):
        load_scenario(path, [item])
    assert_one_line_error(validate(path, "--set", item), path, *fragments)


def test_good_set_overrides_take_effect(data_dir):
    path = data_dir / "cbr_city.yaml"
    s = load_scenario(
        path,
        [
            "cameras.0.count=7",
            "recording.retention_days=10",
            "simulation.seed=99",
            "network.core.capacity_mbps=2500.5",
            "cameras.1.sub_stream.enabled=true",
            "activity.hourly=[0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5,"
            " 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]",
            "country=DE",
            "recording.retention_days=60",  # a later --set wins
        ],
    )
    assert s.cameras[0].count == 7 and s.camera_count == 9
    assert s.recording.retention_days == 60 and s.country == "DE"
    assert s.simulation.seed == 99
    assert s.network.core.capacity_mbps == 2500.5
    assert s.cameras[1].sub_stream.enabled is True
    assert s.activity.hourly == [0.5] * 24

    result = validate(path, "--set", "cameras.0.count=7", "--set", "recording.retention_days=10")
    assert result.exit_code == 0, result.output
    assert "9 cameras" in result.stdout and "10-day retention" in result.stdout


def test_seed_and_days_come_after_the_overrides(data_dir):
    path = data_dir / "cbr_city.yaml"
    s = load_scenario(path, ["simulation.seed=1", "simulation.days=3"], seed=99, days=0.5)
    assert (s.simulation.seed, s.simulation.days) == (99, 0.5)
    s = load_scenario(path, ["simulation.seed=1"])
    assert s.simulation.seed == 1
    with pytest.raises(ScenarioError, match="simulation.days"):
        load_scenario(path, days=-1)


def test_set_creates_an_optional_section(data_dir):
    s = load_scenario(
        data_dir / "cbr_city.yaml",
        ["network.districts.0.backup.capacity_mbps=100", "network.core.reliability.mtbf_h=500"],
    )
    assert s.network.districts[0].backup.capacity_mbps == 100
    assert s.network.core.reliability.mtbf_h == 500


@pytest.mark.parametrize("command", ["validate", "run", "timeline", "serve", "compare", "sweep"])
@pytest.mark.parametrize(("option", "field"), [("--seed", "simulation.seed"),
                                               ("--days", "simulation.days")])  # fmt: skip
def test_seed_and_days_are_scenario_overrides_everywhere(
    data_dir: Path, command: str, option: str, field: str
) -> None:
    path = data_dir / "cbr_city.yaml"
    extra = {"compare": [str(path)], "sweep": ["--vary", "simulation.resolution_s=1,2"]}
    args = [command, str(path), *extra.get(command, []), option, "-1"]
    assert_one_line_error(CliRunner().invoke(main, args), path, field)


def test_a_district_whose_cameras_record_nothing_needs_no_server_group(base, tmp_path):
    def change(d: dict) -> None:
        d["recording"]["servers"][1]["districts"] = ["north"]
        d["cameras"][1]["recording"] = {"mode": "off"}

    path = mutated(base, tmp_path, change)
    assert validate(path).exit_code == 0
