"""The terminal summary: key figures present, limits flagged, lines fit the terminal."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from simulator.model.results import GroupSizing, Year
from simulator.report.jsonreport import to_json_dict
from simulator.report.summary import WIDTH, summary_text
from simulator.report.tables import clock


def _row(text: str, start: str) -> str:
    """The first line whose content (after the 2-char marker column) starts with `start`
    (a link's name starts its row in the links table, then in the window's by link)."""
    hits = [line for line in text.splitlines() if line[2:].startswith(start)]
    assert hits, start
    return hits[0]


def _cells(text: str, start: str) -> list[str]:
    """That line's whitespace-separated cells, without the marker column."""
    return _row(text, start)[2:].split()


def test_headline_and_key_figures(results):
    text = summary_text(results)
    assert "scenario: Test town" in text
    assert "cameras: 40" in text and "seed: 7" in text and "days: 1" in text
    storage = _row(text, "storage (TB)")
    assert "221.2" in storage and "250.0" in storage and "7.37" in storage
    servers = _row(text, "recording servers")
    assert servers.split()[-5:] == ["servers", "3", "2", "binding:", "storage"]
    for name, n in results.sizing.by_constraint.items():
        assert _cells(text, f"  by {name}")[2] == str(n)
    assert "99.089" in _row(text, "availability %")
    assert _cells(text, "lost hours: camera")[-1] == "6.5"
    assert _cells(text, "lost hours: server")[-1] == "2.2"


def test_links_table(results):
    text = summary_text(results)
    assert _cells(text, "access (40 links)")[4:8] == ["100", "4.1", "7.1", "20.0"]
    # cap, mean, p99, max %, loss %, window loss %, p99 wait ms
    assert _cells(text, "centre ")[2:9] == [
        "1,000",
        "68.8",
        "91.2",
        "104.0",
        "0.01",
        "0.31",
        "6.43",
    ]
    assert "centre-backup" in text and _cells(text, "core ")[2] == "10,000"


def test_servers_and_window(results):
    text = summary_text(results)
    rec1 = _row(text, "rec-1 ")
    assert "22/175" in rec1 and "101/142/152" in rec1 and "600" in rec1 and "590/1,800" in rec1
    assert _cells(text, "rec-1 ")[-2] == "33"  # load%: its highest share, IOPS 590 / 1,800
    assert "18:30" in text and "60 min" in text and "2,160,000" in text and "8.75" in text
    for w in results.warnings:
        assert w in text


def test_flags_mark_rows_over_limits(results):
    text = summary_text(results)
    assert _row(text, "centre ").startswith("!")  # p99 91 % > 80 %, loss > 0
    assert _row(text, "rec-2 ").startswith("!")  # ingest over 100 Mbps limit, storage over usable
    assert _row(text, "recording servers").startswith("!")  # 3 needed, 2 configured
    for ok in ("access (40 links)", "centre-backup", "core ", "rec-1 ", "storage (TB)"):
        assert not _row(text, ok).startswith("!"), ok


def test_flag_follows_the_data(results):
    calm = dataclasses.replace(
        results.links[1], p99_util=0.5, loss_fraction=0.0, window_loss_fraction=0.0
    )
    results.links[1] = calm
    assert not _row(summary_text(results), "centre ").startswith("!")
    results.links[2] = dataclasses.replace(results.links[2], loss_fraction=1e-9)
    assert _row(summary_text(results), "centre-backup").startswith("!")


def test_lines_fit_width_even_with_long_warnings(results):
    results.warnings.append("a very long warning " * 20)
    text = summary_text(results)
    assert max(len(line) for line in text.splitlines()) <= WIDTH


def test_nan_shown_as_dash(results):
    results.links[0] = dataclasses.replace(results.links[0], p99_delay_ms=float("nan"))
    assert _cells(summary_text(results), "access (40 links)")[-2] == "-"


def test_clock():
    assert clock(0) == "00:00"
    assert clock(66600) == "18:30"
    assert clock(86400 + 3600 * 9 + 59) == "day 2 09:00"


def test_sizing_shows_the_planning_load_the_losses_and_each_mixed_group(results):
    text = summary_text(results)
    assert _cells(text, "  planning load %")[3] == "80"
    lost = _row(text, "  not stored (TB/day)")
    assert "0.07" in lost and "camera 0.05" in lost and "server 0.02" in lost
    assert "group" not in text  # one group: nothing more to say
    groups = [
        GroupSizing("big", 30, 1, 1, "ingest", {}),
        GroupSizing("small", 10, 1, 2, "streams", {}),
    ]
    mixed = dataclasses.replace(results.sizing, groups=groups)
    text = summary_text(dataclasses.replace(results, sizing=mixed))
    assert _cells(text, "  group big")[2:] == ["1", "1", "30", "cameras;", "binding:", "ingest"]
    assert _row(text, "  group small").startswith("!")


def test_window_table_lists_every_shared_link_flagged_and_without_blank_cells(results):
    """Every uplink, backup and core has a row, the centre uplink flagged (p99 91 %, loss)
    though its busiest minute is the core's (such a link was left out, hiding a link over the
    planning line), each row with every cell filled."""
    from simulator.report.tables import window_links_table

    text = summary_text(results)
    assert _row(text, "centre ").startswith("!")  # the links table's row
    by_link = window_links_table(results)
    assert [row[0] for row in by_link.rows] == ["centre", "centre-backup", "core"]
    assert by_link.flagged == [True, False, False]
    assert all(cell.strip() for row in by_link.rows for cell in row)
    assert by_link.rows[0][1:] == ["core's busiest", "18:30", "60 min", "0.31", "6.43"]
    # a district link at its own busiest minute, 18:00
    links = [dataclasses.replace(lk) for lk in results.links]
    links[1].window_start_s = 64800.0
    moved = dataclasses.replace(results, links=links)
    assert window_links_table(moved).rows[0][1:3] == ["its own busiest", "18:00"]
    text = summary_text(moved)
    assert _cells(text, "all (core's busiest)")[3:5] == ["18:30", "60"]
    assert max(len(line) for line in text.splitlines()) <= WIDTH


def _year(start_h: int) -> Year:
    return Year(
        start=dt.datetime(2026, 12, 21), days=365.0, coarse_resolution_s=60, resolution_s=1,
        retention_days=30.0, storage_window_start_h=start_h, storage_window_tb=720.4,
        peak_day=5, peak_hour_tb=1.24, by_constraint_year={"storage": 5, "ingest": 2},
        by_constraint_peak_day={"storage": 0, "ingest": 1}, daily_write_year_tb=23.4,
        daily_write_peak_day_tb=24.1, daily_write_peak_day_coarse_tb=24.1,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("start_h", "when", "end"),
    [
        # 335 days in: the window ends exactly at the year's end, no wrap
        (335 * 24, "2027-11-21 → 2027-12-21", "2027-12-21T00:00:00"),
        # 350 days in: 15 days to the year's end, then its first 15 days
        (350 * 24, "2027-12-06 → 2027-01-05, wraps", "2027-01-05T00:00:00"),
    ],
)
def test_the_storage_window_dates_are_the_simulated_years_even_when_it_wraps(
    results, start_h, when, end
):
    r = dataclasses.replace(results, year=_year(start_h))
    r.sizing.by_constraint = {"storage": 5, "ingest": 2}
    text = summary_text(r)
    assert when in _row(text, "worst 30-day window")
    assert f"({when})" in _row(text, "storage (TB)")
    assert max(len(line) for line in text.splitlines()) <= WIDTH
    window = to_json_dict(r)["year"]["storage_window"]
    assert window["end"] == end and window["wraps"] == ("wraps" in when)
