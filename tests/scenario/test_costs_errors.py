"""A bad `costs` section → exit 2 and one line naming the file, the field and what is allowed
(the way tests/scenario/test_errors.py checks every other section)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from simulator.cli import main
from simulator.scenario import ScenarioError, load_scenario

PRICES = {
    "servers": {"rec-north": 10000, "rec-south": 8000},
    "disk_per_tb": 20,
    "links": {"uplink": 10, "core": 2},
}

CASES = {
    "negative server price": (
        {"servers": {"rec-north": -1, "rec-south": 8000}},
        ["costs.servers.rec-north", "greater than or equal to 0", "-1"],
    ),
    "negative disk price": ({"disk_per_tb": -20}, ["costs.disk_per_tb", "greater than or equal"]),
    "negative link price": (
        {"links": {"uplink": -10}},
        ["costs.links.uplink", "greater than or equal to 0"],
    ),
    "negative energy price": ({"energy_per_kwh": -0.1}, ["costs.energy_per_kwh"]),
    "unknown server group": (
        {"servers": {"rec-north": 1, "rec-south": 1, "rec-east": 1}},
        ["costs.servers: 'rec-east' is not a recording server group", "rec-north, rec-south"],
    ),
    "a group not priced": (
        {"servers": {"rec-north": 1}},
        ["costs.servers: no price for the server group 'rec-south'", "rec-north, rec-south"],
    ),
    "unknown link class": (
        {"links": {"metro": 5}},
        ["costs.links.metro: unknown key 'metro'", "allowed: access, backup, core, uplink"],
    ),
    "zero horizon": ({"horizon_years": 0}, ["costs.horizon_years", "greater than 0"]),
    "unknown cost key": (
        {"disk_each": 300},
        ["costs.disk_each: unknown key 'disk_each'", "disk_per_tb"],
    ),
}


@pytest.fixture(scope="module")
def base(data_dir) -> dict[str, Any]:
    return yaml.safe_load((data_dir / "cbr_city.yaml").read_text())


@pytest.mark.parametrize("case", list(CASES))
def test_bad_costs_are_one_line_errors(case: str, base, tmp_path: Path) -> None:
    change, fragments = CASES[case]
    data = copy.deepcopy(base)
    data["costs"] = {**PRICES, **change}
    path = tmp_path / "city.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert "\n" not in str(info.value)
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"camsim: error: {path}: "), line
    for fragment in fragments:
        assert fragment in line, (fragment, line)


def test_group_names_given_twice_are_refused_when_priced(base, tmp_path: Path) -> None:
    data = copy.deepcopy(base)
    data["recording"]["servers"][1]["name"] = "rec-north"
    data["costs"] = {"servers": {"rec-north": 1}}
    path = tmp_path / "city.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(ScenarioError, match=r"costs.servers: the server group name 'rec-north'"):
        load_scenario(path)


def test_good_costs_validate(base, tmp_path: Path) -> None:
    data = copy.deepcopy(base)
    data["costs"] = PRICES
    path = tmp_path / "city.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    assert load_scenario(path).costs is not None
