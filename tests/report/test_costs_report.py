"""Costs in the run's reports: the summary's table, report.json's `costs`, the HTML table, and
nothing at all (byte for byte) when the scenario has no prices. Figures: the hand calculation
of tests/model/test_costs.py (capital 39,520, 43,285 a year, 255,945 over 5 years)."""

from __future__ import annotations

import json

from simulator.model.costs import costs_of
from simulator.model.sizing import simulate
from simulator.report import summary_text, to_json_dict, write_report
from simulator.report.html import render_html
from tests.model.test_costs import PRICES


def priced(load, *extra: str):
    s = load("cbr_city", *PRICES, *extra)
    r = simulate(s)
    r.costs = costs_of(s, r)
    return r


def test_the_summary_shows_capital_yearly_and_total(load):
    text = summary_text(priced(load))
    table = text[text.index("Costs (EUR") :]
    total = next(line for line in table.splitlines() if line.strip().startswith("total"))
    assert total.split()[1:] == ["39,520", "43,285", "39,520", "43,285"]
    tco = next(line for line in table.splitlines() if "cost of ownership, 5 years" in line)
    assert tco.split()[-2:] == ["255,945", "255,945"]
    assert max(len(line) for line in text.splitlines()) <= 100


def test_needed_beyond_configured_is_flagged(load):
    """One rec-north server configured where the sizing needs more (ingest at 4 Mbps × 3 on a
    5 Mbps limit): its row and the total are flagged, the needed total is the larger."""
    r = priced(load, "recording.servers.0.ingest_limit_mbps=5")
    c = r.costs
    assert c.servers_needed["rec-north"] > 1
    assert c.needed.total > c.configured.total
    rows = [line for line in summary_text(r).splitlines() if "servers rec-north" in line]
    assert rows and rows[-1].startswith("!")


def test_report_json_holds_both_bills(load):
    data = to_json_dict(priced(load))["costs"]
    assert data["currency"] == "EUR"
    assert data["horizon_years"] == 5
    assert data["configured"]["capital"] == 39_520
    assert data["configured"]["yearly"] == 43_285
    assert data["configured"]["total"] == 255_945
    assert data["needed"]["total"] == 255_945
    assert data["servers_needed"] == {"rec-north": 1, "rec-south": 1}
    items = [line["item"] for line in data["configured"]["lines"]]
    assert items[:5] == ["servers rec-north", "disks rec-north", "servers rec-south",
                         "disks rec-south", "standby servers"]  # fmt: skip


def test_html_has_the_costs_table(load):
    html = render_html(priced(load))
    assert "Costs (EUR" in html and "255,945" in html


def test_no_costs_section_no_cost_output(load, tmp_path):
    s = load("cbr_city")
    r = simulate(s)
    r.costs = costs_of(s, r)
    assert r.costs is None
    assert "Costs" not in summary_text(r)
    assert "costs" not in to_json_dict(r)
    assert "Costs (" not in render_html(r)
    write_report(r, tmp_path)
    assert "costs" not in json.loads((tmp_path / "report.json").read_text())


def test_schema_doc_covers_the_costs_section(load):
    """A priced run's `costs`: every field in docs/report-schema.md, no more."""
    from tests.report.test_report_json import _doc_fields, _paths

    fields, maps = _doc_fields()
    d = to_json_dict(priced(load, "operators={}", "costs.operator_hour=30"))
    documented = {f for f in fields if f.split(".")[0] == "costs"}
    assert _paths({"costs": d["costs"]}, "", maps) == documented
