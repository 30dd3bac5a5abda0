"""The summary as tables of strings, shared by the terminal summary and the HTML report."""

from __future__ import annotations

import datetime as dt
import math

from simulator.model.results import LinkStats, Results, Year
from simulator.report.checks import (
    link_checks,
    server_checks,
    server_load,
    short_of_servers,
)
from simulator.report.key_figures import replications_table
from simulator.report.text import Table, clock, count, duration, num, pct  # noqa: F401 - re-exported
from simulator.report.watch_table import watch_table

FLAG = "!"
"""Marker for a row over a limit."""

SIZING_CAUSES = ("congestion", "overload", "unassigned")
"""Lost-recording causes that mean the network or recorders are undersized or misconfigured."""


def link_label(link: LinkStats) -> str:
    """A link's row name: the access class reads "access (N links)"."""
    if link.kind == "access" or link.count > 1:
        return f"{link.name} ({count(link.count)} links)"
    return link.name


def headline(results: Results) -> list[tuple[str, str]]:
    """Label/value pairs for the top of the report."""
    y, rep = results.year, results.replications
    span = ("days", f"{results.days:g}") if y is None else ("year", year_span(y))
    head = [("scenario", results.scenario), ("cameras", count(results.cameras)), span]
    if rep is None:
        return [*head, ("seed", str(results.seed))]
    return [
        *head,
        ("seed", f"{rep.seed} → {count(len(rep.seeds))} replications from its seed tree"),
        ("other tables", f"replication 1 (seed {results.seed})"),
    ]


def date(instant: dt.datetime) -> str:
    """A simulated instant's date (report.json has the full instant)."""
    return f"{instant:%Y-%m-%d}"


def year_span(y: Year) -> str:
    """How a year-aware run was simulated, in a few words."""
    return (
        f"{y.days:g} days from {date(y.start)} at {y.coarse_resolution_s} s, "
        f"peak day {date(y.date(y.peak_day))} at {y.resolution_s} s"
    )


def year_table(results: Results) -> Table:
    """Where in the year the sizing binds: the retention window, the peak day, and each
    constraint's servers in both."""
    y = results.year
    if y is None:
        raise ValueError("the run is not year-aware (results.year is None)")
    s = results.sizing
    title = "Year: where the sizing binds" + (
        " (servers: each constraint summed over the groups)" if len(s.groups) > 1 else ""
    )
    t = Table(title, ["item", "when", "value", "note"], align="llrl")
    t.add(
        [
            f"worst {y.retention_days:g}-day window",
            window_text(y),
            f"{num(y.storage_window_tb, 1)} TB",
            "sizes storage",
        ],
    )
    t.add(
        [
            "peak day (busiest hour)",
            date(y.date(y.peak_day)),
            f"{num(y.daily_write_peak_day_tb, 2)} TB/day",
            f"{y.resolution_s} s = {y.peak_day_coarse_step_s} s, same draws",
        ],
    )
    t.add(["mean day of the year", "", f"{num(y.daily_write_year_tb, 2)} TB/day", ""])
    if y.link_p99_util_year:
        name = max(y.link_p99_util_year, key=lambda k: y.link_p99_util_year[k])
        day = next((lk.p99_util for lk in results.links if lk.name == name), math.nan)
        stepped = y.link_p99_util_peak_day_coarse.get(name, math.nan)
        t.add(
            [
                f"p99 of {name}",
                "whole year",
                f"{pct(y.link_p99_util_year[name])} %",
                f"peak day {pct(day)} %, loss {pct(y.link_loss_year.get(name, 0.0), 2)} %",
            ],
            y.link_p99_util_year[name] > results.sizing.link_planning_load
            or y.link_loss_year.get(name, 0.0) > 0,
        )
        if not math.isnan(stepped):
            t.add(
                [
                    f"  {name} at {y.peak_day_coarse_step_s} s",
                    "peak day",
                    f"{pct(stepped)} %",
                    f"p99, the {y.resolution_s} s draws' means",
                ]
            )
    for name in sorted(s.by_constraint):
        n = s.by_constraint[name]
        when = binds_when(y, name)
        day = y.by_constraint_peak_day.get(name, 0)
        note = f"year {count(y.by_constraint_year.get(name, 0))}, peak day "
        note += count(day) if day else "-"
        t.add(
            [f"servers by {name}", when, count(n), note + (", binds" if name == s.binding else "")],
            n > s.servers_configured,
        )
    return t


def sizing_table(results: Results) -> Table:
    """Storage and server sizing against what is configured: the city's, and with several
    server groups each group's (storage, and servers by every constraint), the city's
    servers needed being the sum of the groups' binding counts."""
    s = results.sizing
    several = len(s.groups) > 1
    t = Table("Sizing", ["item", "needed", "configured", "note"], align="lrrl")
    over_storage = s.storage_needed_tb > s.storage_usable_tb
    t.add(
        [
            "storage (TB)",
            num(s.storage_needed_tb, 1),
            num(s.storage_usable_tb, 1),
            f"demand {num(s.daily_write_tb, 2)} TB/day" + _when(results, "storage"),
        ],
        over_storage,
    )
    for g in s.groups if several else []:
        t.add(
            [f"  {g.name} storage (TB)", num(g.storage_needed_tb, 1), num(g.storage_usable_tb, 1),
             f"{num(g.cameras, 0)} cameras"],
            g.storage_needed_tb > g.storage_usable_tb,
        )  # fmt: skip
    lost = sum(s.daily_lost_tb.values())
    causes = ", ".join(f"{k} {num(v, 2)}" for k, v in sorted(s.daily_lost_tb.items()) if v > 0)
    t.add(
        ["  not stored (TB/day)", num(lost, 2), "", causes or "nothing lost"],
        any(s.daily_lost_tb.get(c, 0) > 0 for c in SIZING_CAUSES),
    )
    if several:
        note = " + ".join(f"{g.name} {count(g.servers_needed)} ({g.binding})" for g in s.groups)
    else:
        note = f"binding: {s.binding}" + _when(results, s.binding)
    t.add(
        ["recording servers", count(s.servers_needed), count(s.servers_configured), note],
        short_of_servers(s),
    )
    t.add(
        [
            "  planning load %",
            pct(s.planning_load, 0),
            "",
            "of each server limit: ingest, streams, IOPS, MB/s",
        ]
    )
    if not several:
        _by_constraint(t, s.by_constraint, s.binding, s.servers_configured, "  ")
        return t
    for g in s.groups:  # mixed groups: each on its own hardware, the city their sum
        t.add(
            [f"  group {g.name}", count(g.servers_needed), count(g.servers_configured),
             f"{count(g.cameras)} cameras; binding: {g.binding}" + _when(results, g.binding)],
            g.servers_needed > g.servers_configured,
        )  # fmt: skip
        _by_constraint(t, g.by_constraint, g.binding, g.servers_configured, "    ")
    return t


def _by_constraint(t: Table, counts: dict[str, int], binding: str, configured: int,
                   indent: str) -> None:  # fmt: skip
    """A row per server constraint: the servers it needs, flagged above those configured."""
    for name in sorted(counts):
        n = counts[name]
        t.add([f"{indent}by {name}", count(n), "", "binding" if name == binding else ""],
              n > configured)  # fmt: skip


def binds_when(y: Year, constraint: str) -> str:
    """When in the year a server constraint binds: the peak day, the storage window or the
    whole year."""
    if y.where(constraint) == "peak day":
        return f"peak day {date(y.date(y.peak_day))}"
    if constraint == "storage":
        return window_text(y)
    return "whole year"


def window_text(y: Year) -> str:
    """The storage window's dates in the simulated year, marked when it wraps past the year's
    end (on from its start: the year repeats)."""
    first, last = y.storage_window
    dates = f"{date(first)} → {date(last)}" + (", wraps" if y.wraps else "")
    if not y.full_years:
        return dates
    whole = "whole year" + (f" × {y.full_years}" if y.full_years > 1 else "")
    left = y.remainder_days
    return whole if left <= 0 else f"{whole} + {dates}"


def _when(results: Results, constraint: str) -> str:
    """When the constraint binds, in parentheses, for a year-aware run ("" otherwise)."""
    return "" if results.year is None else f" ({binds_when(results.year, constraint)})"


def links_table(results: Results) -> Table:
    """Per-link utilisation, loss and queueing delay."""
    t = Table(
        "Links",
        [
            "link",
            "kind",
            "cap Mbps",
            "mean%",
            "p99%",
            "max%",
            "loss%",
            "win loss%",
            "p99 wait ms",
            "down h",
        ],
        align="llrrrrrrrr",
    )
    for link in results.links:
        t.add(
            [
                link_label(link),
                link.kind,
                num(link.capacity_mbps, 0),
                pct(link.mean_util),
                pct(link.p99_util),
                pct(link.max_util),
                pct(link.loss_fraction, 2),
                pct(link.window_loss_fraction, 2),
                num(link.p99_delay_ms, 2),
                num(link.down_hours, 1),
            ],
            bool(link_checks(link, results.sizing.link_planning_load)),
        )
    return t


def recording_table(results: Results) -> Table:
    """Recording availability and lost camera-hours by cause."""
    r = results.recording
    t = Table("Recording", ["item", "value"], align="lr")
    t.add(["availability %", pct(r.availability, 3)])
    t.add(["expected camera-hours", num(r.expected_hours, 1)])
    t.add(["recorded camera-hours", num(r.recorded_hours, 1)])
    for cause in sorted(r.lost_hours):
        lost = r.lost_hours[cause]
        t.add([f"lost hours: {cause}", num(lost, 1)], cause in SIZING_CAUSES and lost > 0)
    return t


def servers_table(results: Results) -> Table:
    """Per recording server: cameras, ingest, write IOPS and storage against limits, and the
    highest share of a limit it uses (flagged above the planning line)."""
    line = results.sizing.planning_load
    t = Table(
        "Recording servers",
        [
            "server",
            "cams",
            "ingest mean/p99/max",
            "limit",
            "IOPS p99/cap",
            "need TB",
            "usable TB",
            "load%",
            "down h",
        ],
    )
    for s in results.servers:
        ingest = "/".join(
            num(v, 0) for v in (s.ingest_mean_mbps, s.ingest_p99_mbps, s.ingest_max_mbps)
        )
        load = [v for v in server_load(s).values() if math.isfinite(v)]
        t.add(
            [
                s.name,
                f"{count(s.cameras)}/{count(s.max_streams)}",
                ingest,
                num(s.ingest_limit_mbps, 0),
                f"{num(s.write_iops_p99, 0)}/{num(s.iops_capacity, 0)}",
                num(s.storage_needed_tb, 1),
                num(s.usable_tb, 1),
                pct(max(load, default=math.nan), 0),
                num(s.down_hours, 1),
            ],
            bool(server_checks(s, line)),
        )
    return t


def window_table(results: Results) -> Table:
    """The frame-level window: the core's busiest minute, every frame of every camera."""
    w = results.window
    t = Table("Frame-level window", ["link", "start", "length", "frames", "end-to-end p99 ms"])
    t.add(
        [
            "all (core's busiest)",
            clock(w.start_s),
            duration(w.length_s),
            f"{w.frames:,}",
            num(w.end_to_end_p99_ms, 2),
        ]
    )
    return t


def window_links_table(results: Results) -> Table:
    """Every shared link's frame-level window: a district link's own busiest minute (its
    district's cameras alone) or, when that is the core's, the core's window; what the frames
    lost there and waited, flagged like the links table."""
    w = results.window
    t = Table(
        "Frame-level window by link",
        ["link", "minute", "start", "length", "win loss%", "p99 wait ms"],
        align="llrrrr",
    )
    for link in results.links:
        if link.kind not in ("uplink", "backup", "core"):
            continue
        own = link.kind != "core" and link.window_start_s != w.start_s
        t.add(
            [
                link.name,
                "its own busiest" if own else "core's busiest",
                clock(link.window_start_s),
                duration(w.length_s),
                pct(link.window_loss_fraction, 2),
                num(link.p99_delay_ms, 2),
            ],
            bool(link_checks(link, results.sizing.link_planning_load)),
        )
    return t


def all_tables(results: Results) -> list[Table]:
    """Every summary table, in report order (operators, then costs, last when the run has
    them)."""
    tables = [
        sizing_table(results),
        links_table(results),
        recording_table(results),
        servers_table(results),
        window_links_table(results),
        window_table(results),
    ]
    if results.reads is not None:
        from simulator.report.reads import reads_table  # both build on this module's Table

        tables.insert(4, reads_table(results.reads))
    if results.resilience is not None:
        from simulator.report.resilience import resilience_tables

        tables[4:4] = resilience_tables(results)
    if results.year is not None:
        tables.insert(1, year_table(results))
    if results.replications is not None:
        tables.insert(0, replications_table(results))
    if results.watch is not None:
        tables.append(watch_table(results))
    if results.costs is not None:
        from simulator.report.costs import costs_table

        tables.append(costs_table(results.costs))
    return tables
