"""Every sizing figure per server group, then the city (issue 20): a group's storage short of
its own usable capacity is flagged though the city's total fits, and the headline's servers
needed is the sum of the groups' binding constraints, each shown.

tests/data/cbr_city.yaml, constant rates, rec-north for north (3 × 4 Mbps) and rec-south for
south (2 × 2.5 Mbps), one server each:
- rec-north on 4 × 1 TB disks in RAID 6: 2 TB usable, against 12 Mbps × 30 days = 3.888 TB
  (+ 5 GB reserve): 2 servers by storage, the rest 1;
- rec-south with one stream a server: 2 streams / (0.8 × 1) → 3 servers by streams;
  storage 2.5 × 2 Mbps × 30 days = 1.62 TB of 160.
City: 5.52 TB needed of 162 usable (no city-wide storage flag); 2 + 3 = 5 servers needed,
where the constraints summed over the groups give storage 2 + 1 = 3 and streams 1 + 3 = 4.
"""

from __future__ import annotations

import pytest

from simulator.model.sizing import simulate
from simulator.model.year import size_year
from simulator.report.checks import Flag, findings, flags
from simulator.report.tables import sizing_table

CASE = (
    "recording.servers.0.disks={count: 4, size_tb: 1, raid: raid6}",
    "recording.servers.1.max_streams=1",
)


@pytest.fixture(scope="module")
def day(load):
    return simulate(load("cbr_city", *CASE))


def test_each_group_has_its_own_storage_figures(day):
    groups = {g.name: g for g in day.sizing.groups}
    north, south = groups["rec-north"], groups["rec-south"]
    assert north.storage_needed_tb == pytest.approx(3.888 + 0.005, rel=1e-3)
    assert north.storage_usable_tb == pytest.approx(2.0)
    assert south.storage_needed_tb == pytest.approx(1.62 + 0.005, rel=1e-3)
    assert south.storage_usable_tb == pytest.approx(160.0)
    assert day.sizing.storage_needed_tb < day.sizing.storage_usable_tb  # the city fits


def test_a_groups_storage_shortfall_is_flagged(day):
    assert Flag("storage", "rec-north", "needed>usable") in flags(day)
    assert Flag("storage", "rec-south", "needed>usable") not in flags(day)
    assert Flag("storage", "total", "needed>usable") not in flags(day)
    assert any("rec-north" in f and "storage" in f for f in findings(day))
    rows = sizing_table(day)
    storage = [
        (r, flag) for r, flag in zip(rows.rows, rows.flagged, strict=True) if "storage" in r[0]
    ]
    assert any("rec-north" in r[0] and flag for r, flag in storage), storage


def _adds_up(results) -> None:
    z = results.sizing
    assert [g.servers_needed for g in z.groups] == [2, 3]
    assert [g.binding for g in z.groups] == ["storage", "streams"]
    assert z.servers_needed == 5
    for g in z.groups:
        assert g.servers_needed == max(g.by_constraint.values())
    t = sizing_table(results)
    shown = {r[0].strip(): r for r in t.rows}
    assert shown["recording servers"][1] == "5"
    assert "rec-north 2 (storage) + rec-south 3 (streams)" in shown["recording servers"][3]
    assert shown["group rec-north"][1:3] == ["2", "1"]
    assert shown["group rec-south"][1:3] == ["3", "1"]


def test_servers_needed_is_the_sum_of_the_groups_binding_constraints(day):
    _adds_up(day)


def test_year_aware_servers_needed_is_the_sum_of_the_groups_too(load):
    _adds_up(size_year(load("cbr_city", *CASE)))


def test_compare_flags_a_groups_shortfall_the_city_totals_hide(load):
    """rec-north short of storage and servers, the city's storage total fitting: compare
    flags the other side's storage and servers rows."""
    from simulator.report.compare import compare_table

    base = simulate(load("cbr_city"))
    other = simulate(
        load("cbr_city", "recording.servers.0.disks={count: 4, size_tb: 1, raid: raid6}")
    )
    assert other.sizing.storage_needed_tb < other.sizing.storage_usable_tb
    t = compare_table(base, other)
    flagged = {r[0]: f for r, f in zip(t.rows, t.flagged, strict=True)}
    assert flagged["storage usable (TB)"] and flagged["recording servers needed"]
