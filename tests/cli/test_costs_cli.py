"""Costs through the commands: `compare` shows the difference in capital, yearly and total
cost, `sweep` a cost column (and CSV figures), and a scenario without prices shows none.
Figures from the hand calculation of tests/model/test_costs.py: two more rec-north servers
(2 × (10,000 + 3,840) = 27,680 capital, 2 × 500 W × 8,760 h × 0.25 = 2,190 a year) cost
27,680 + 5 × 2,190 = 38,630 more over 5 years; as needed, nothing more."""

from __future__ import annotations

from pathlib import Path

import yaml
from click.testing import CliRunner

from simulator.cli import main
from tests.model.test_costs import PRICES


def camsim(*args: object):
    return CliRunner().invoke(main, [str(a) for a in args])


def priced_file(data_dir: Path, tmp_path: Path, name: str, north: int) -> Path:
    """cbr_city.yaml with PRICES and `north` rec-north servers, written to tmp_path/name."""
    data = yaml.safe_load((data_dir / "cbr_city.yaml").read_text())
    data["recording"]["failover"] = {"standby": 1}
    data["recording"]["servers"][0]["count"] = north
    data["costs"] = yaml.safe_load(PRICES[1].split("=", 1)[1])
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _row(text: str, label: str) -> list[str]:
    line = next(line for line in text.splitlines() if label in line)
    return line[line.index(label) + len(label) :].split()


def test_compare_shows_the_cost_difference(data_dir, tmp_path):
    base = priced_file(data_dir, tmp_path, "base.yaml", 1)
    more = priced_file(data_dir, tmp_path, "more.yaml", 3)
    result = camsim("compare", base, more, "--days", 0.05, "-q")
    assert result.exit_code == 0, result.output
    assert _row(result.stdout, "capital (EUR)") == ["39,520", "67,200", "+27,680"]
    assert _row(result.stdout, "per year (EUR)") == ["43,285", "45,475", "+2,190"]
    assert _row(result.stdout, "total, 5 years (EUR)") == ["255,945", "294,575", "+38,630"]
    assert _row(result.stdout, "total as needed (EUR)") == ["255,945", "255,945", "+0"]


def test_compare_without_prices_shows_no_costs(data_dir):
    city = data_dir / "cbr_city.yaml"
    result = camsim("compare", city, city, "--days", 0.05, "-q")
    assert result.exit_code == 0, result.output
    assert "EUR" not in result.stdout and "capital" not in result.stdout


def test_sweep_has_a_cost_column(data_dir, tmp_path):
    city = priced_file(data_dir, tmp_path, "city.yaml", 1)
    out = tmp_path / "grid.csv"
    result = camsim("sweep", city, "--vary", "recording.servers.0.count=1,3", "--days", 0.05,
                    "--jobs", 1, "--csv", out, "-q")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "TCO EUR 5 y" in result.stdout
    rows = [
        line for line in result.stdout.splitlines() if line.lstrip(" !").startswith(("1 ", "3 "))
    ]
    assert "255,945" in rows[0]
    assert "294,575 (255,945)" in rows[1]  # configured, then as needed
    header, *lines = out.read_text().splitlines()
    cells = [dict(zip(header.split(","), line.split(","), strict=True)) for line in lines]
    assert [float(c["cost_total"]) for c in cells] == [255_945, 294_575]
    assert [float(c["cost_total_as_needed"]) for c in cells] == [255_945, 255_945]


def test_sweep_without_prices_has_no_cost_column(data_dir, tmp_path):
    out = tmp_path / "grid.csv"
    result = camsim("sweep", data_dir / "cbr_city.yaml", "--vary", "recording.servers.0.count=1",
                    "--days", 0.05, "--jobs", 1, "--csv", out, "-q")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "TCO" not in result.stdout
    assert "cost_" not in out.read_text()
