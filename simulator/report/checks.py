"""Planning checks: which links, servers and totals are over a limit (presentation rules only)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from simulator.model.results import LinkStats, Results, ServerStats, Sizing, Watch

MAX_CAMERAS_PER_OPERATOR = 16
"""Cameras one operator can supervise: "no more than 16" (Wallace & Diffley 1988, UK PSDB)."""

MAX_MONITORS_PER_OPERATOR = 9
"""Monitors one operator can watch: about 9 pictures at most (Tickner & Poulton 1973)."""

CAMERAS_PER_OPERATOR = f"cameras_per_operator>{MAX_CAMERAS_PER_OPERATOR}"
MONITORS_EACH = f"monitors_each>{MAX_MONITORS_PER_OPERATOR}"
HOURS_UNWATCHED = "hours_unwatched>0"
"""The operator checks' names (`Flag.check`), used by the tables to flag their rows."""


@dataclass(frozen=True)
class Flag:
    """One thing over a limit: what it is, its name, and which check it failed."""

    subject: str  # "link" | "server" | "storage" | "servers" | "disks" | "operators"
    name: str
    check: str  # short machine-readable rule, e.g. "p99_util>0.8"


def _over(value: float, limit: float) -> bool:
    """True when a finite value exceeds a finite, positive limit."""
    return math.isfinite(value) and math.isfinite(limit) and limit > 0 and value > limit


def link_checks(link: LinkStats, line: float) -> list[str]:
    """Rules a link fails: p99 utilisation over the planning line (`network.planning_load`),
    or any loss."""
    failed = []
    if math.isfinite(link.p99_util) and link.p99_util > line:
        failed.append(f"p99_util>{line:g}")
    if link.loss_fraction > 0:
        failed.append("loss>0")
    if link.window_loss_fraction > 0:
        failed.append("window_loss>0")
    return failed


SERVER_LIMITS = {
    "ingest": ("ingest_p99>plan", "ingest_max>limit"),
    "streams": ("cameras>plan", "cameras>max_streams"),
    "write_iops": ("write_iops_p99>plan", "write_iops_p99>capacity"),
    "write_throughput": ("write_p99>plan", "write_p99>capacity"),
}
"""Per server limit (the servers-needed constraints): the planning check, and the stronger
check of the physical limit that replaces it when failed."""


def server_load(server: ServerStats) -> dict[str, float]:
    """Share of each server limit used, as servers needed counts it (p99 ingest, cameras,
    p99 write IOPS, p99 ingest against the disks' write throughput); NaN without a limit."""

    def share(value: float, limit: float) -> float:
        return value / limit if math.isfinite(limit) and limit > 0 else math.nan

    return {
        "ingest": share(server.ingest_p99_mbps, server.ingest_limit_mbps),
        "streams": share(server.cameras, server.max_streams),
        "write_iops": share(server.write_iops_p99, server.iops_capacity),
        "write_throughput": share(server.ingest_p99_mbps, server.write_capacity_mbps),
    }


def server_checks(server: ServerStats, planning_load: float) -> list[str]:
    """Rules a recording server fails: each limit above the planning line (the share of it
    servers needed sizes for, `recording.planning_load`) or, stronger, above the limit itself
    (ingest: its peak, which loses video), and storage needed above usable."""
    load = server_load(server)
    physical = {
        "ingest": load["ingest"] > 1 or _over(server.ingest_max_mbps, server.ingest_limit_mbps),
        "streams": load["streams"] > 1,
        "write_iops": load["write_iops"] > 1,
        "write_throughput": load["write_throughput"] > 1,
    }
    failed = []
    for name, (plan, limit) in SERVER_LIMITS.items():
        if physical[name]:
            failed.append(limit)
        elif load[name] > planning_load:
            failed.append(plan)
    if _over(server.storage_needed_tb, server.usable_tb):
        failed.append("storage_needed>usable")
    return failed


def watch_checks(watch: Watch) -> list[str]:
    """Rules the operators' watch fails: too many cameras or monitors per operator, or hours
    of the day with nobody on duty."""
    failed = []
    if watch.max_cameras_per_operator > MAX_CAMERAS_PER_OPERATOR:
        failed.append(CAMERAS_PER_OPERATOR)
    if watch.monitors_each > MAX_MONITORS_PER_OPERATOR:
        failed.append(MONITORS_EACH)
    if watch.hours_unwatched > 0:
        failed.append(HOURS_UNWATCHED)
    return failed


def short_of_servers(s: Sizing) -> bool:
    """The city, or any of its server groups, needs more servers than it has."""
    return s.servers_needed > s.servers_configured or any(
        g.servers_needed > g.servers_configured for g in s.groups
    )


def short_of_storage(s: Sizing) -> bool:
    """The city, or any of its server groups, needs more storage than it holds."""
    return _over(s.storage_needed_tb, s.storage_usable_tb) or any(
        _over(g.storage_needed_tb, g.storage_usable_tb) for g in s.groups
    )


def flags(results: Results) -> list[Flag]:
    """Every failed check in the run, in report order (totals, links, servers, operators)."""
    out: list[Flag] = []
    s = results.sizing
    if s.servers_needed > s.servers_configured:
        out.append(Flag("servers", "recording", "needed>configured"))
    if _over(s.storage_needed_tb, s.storage_usable_tb):
        out.append(Flag("storage", "total", "needed>usable"))
    if len(s.groups) > 1:  # each group on its own: a pooled total can hide one's shortfall
        for g in s.groups:
            if g.servers_needed > g.servers_configured:
                out.append(Flag("servers", g.name, "needed>configured"))
            if _over(g.storage_needed_tb, g.storage_usable_tb):
                out.append(Flag("storage", g.name, "needed>usable"))
    for link in results.links:
        out.extend(Flag("link", link.name, c) for c in link_checks(link, s.link_planning_load))
    for server in results.servers:
        out.extend(Flag("server", server.name, c) for c in server_checks(server, s.planning_load))
    for name, check in disk_checks(results):
        out.append(Flag("disks", name, check))
    if results.watch is not None:
        out.extend(Flag("operators", "watch", c) for c in watch_checks(results.watch))
    return out


def disk_checks(results: Results) -> list[tuple[str, str]]:
    """(server, check) of disks over their IOPS with reads, and of arrays lost in the run."""
    out = []
    if results.reads is not None:
        out += [(s.name, "disk_iops_p99>capability") for s in results.reads.servers
                if s.disk_load_p99 > 1]  # fmt: skip
    if results.resilience is not None:
        out += [(s.name, "arrays_lost>0") for s in results.resilience.servers if s.arrays_lost]
    return out


def findings(results: Results) -> list[str]:
    """What the reader should look at, as sentences: the model's own warnings, then every
    failed check."""
    out = list(results.warnings)
    s = results.sizing
    links = {lk.name: lk for lk in results.links}
    servers = {sv.name: sv for sv in results.servers}
    groups = {g.name: g for g in s.groups} if len(s.groups) > 1 else {}
    for flag in flags(results):
        group = groups.get(flag.name)
        if flag.subject == "servers" and group is not None:
            out.append(
                f"server group {group.name} undersized: {group.servers_needed:,} needed at the "
                f"{s.planning_load:.0%} planning load (binding: {group.binding}), "
                f"{group.servers_configured:,} configured"
            )
        elif flag.subject == "servers":
            out.append(
                f"undersized: {s.servers_needed:,} recording servers needed at the "
                f"{s.planning_load:.0%} planning load (binding: {s.binding}), "
                f"{s.servers_configured:,} configured"
            )
        elif flag.subject == "storage" and group is not None:
            out.append(
                f"server group {group.name} storage: {group.storage_needed_tb:,.0f} TB needed, "
                f"{group.storage_usable_tb:,.0f} TB usable"
            )
        elif flag.subject == "storage":
            out.append(
                f"storage: {s.storage_needed_tb:,.0f} TB needed, "
                f"{s.storage_usable_tb:,.0f} TB usable"
            )
        elif flag.subject == "link":
            lk = links[flag.name]
            out.append(f"link {lk.name}: " + _link_text(lk, flag.check, s.link_planning_load))
        elif flag.subject == "operators":
            assert results.watch is not None
            out.append("operators: " + _WATCH_TEXT[flag.check](results.watch))
        elif flag.subject == "disks":
            out.append(f"server {flag.name}: " + _disk_text(results, flag))
        else:
            sv = servers[flag.name]
            out.append(f"server {sv.name}: " + _server_text(sv, flag.check, s.planning_load))
    return out


def _link_text(lk: LinkStats, check: str, line: float) -> str:
    """A failed link check as a phrase."""
    if check == "loss>0":
        return f"loses {lk.loss_fraction:.3%} of its traffic (per-second model)"
    if check == "window_loss>0":
        return f"loses {lk.window_loss_fraction:.3%} of its traffic in the busiest window"
    return f"p99 utilisation {lk.p99_util:.0%} above the {line:.0%} planning line"


def _server_text(sv: ServerStats, check: str, line: float) -> str:
    """A failed server check as a phrase: the figure, the line or limit, and what it means."""
    load = server_load(sv)
    plan = f"above the {line:.0%} planning line"
    if check == "storage_needed>usable":
        return f"needs {sv.storage_needed_tb:,.0f} TB, has {sv.usable_tb:,.0f} TB usable"
    if check == "ingest_max>limit":
        return (
            f"ingest peaks at {sv.ingest_max_mbps:,.0f} Mbps, over its "
            f"{sv.ingest_limit_mbps:,.0f} Mbps limit: video is lost"
        )
    name = next(k for k, v in SERVER_LIMITS.items() if check in v)
    value, unit, limit = {
        "ingest": (sv.ingest_p99_mbps, " Mbps ingest p99", sv.ingest_limit_mbps),
        "streams": (sv.cameras, " cameras", sv.max_streams),
        "write_iops": (sv.write_iops_p99, " write IOPS p99", sv.iops_capacity),
        "write_throughput": (sv.ingest_p99_mbps, " Mbps p99 to disk", sv.write_capacity_mbps),
    }[name]
    where = plan if check == SERVER_LIMITS[name][0] else "over the limit itself"
    return (
        f"{value:,.0f}{unit}, {load[name]:.0%} of its {limit:,.0f} limit, {where} "
        f"({line * limit:,.0f})"
    )


def _disk_text(results: Results, flag: Flag) -> str:
    if flag.check == "arrays_lost>0":
        assert results.resilience is not None
        sv = next(s for s in results.resilience.servers if s.name == flag.name)
        return (
            f"{sv.arrays_lost:,} disk array(s) lost ({sv.raid}, {sv.failures:,} disk failures; "
            f"{sv.losses_per_year:.3g} losses a year expected)"
        )
    assert results.reads is not None
    rd = next(s for s in results.reads.servers if s.name == flag.name)
    return (
        f"disk IOPS p99 {rd.disk_iops_p99:,.0f} (writes × RAID penalty + reads), "
        f"the disks give {rd.disk_iops_capability:,.0f}"
    )


_WATCH_TEXT = {
    CAMERAS_PER_OPERATOR: lambda w: (
        f"up to {w.max_cameras_per_operator:,} cameras per operator on duty; no more than "
        f"{MAX_CAMERAS_PER_OPERATOR} cameras per operator (Wallace & Diffley, PSDB)"
    ),
    MONITORS_EACH: lambda w: (
        f"{w.monitors_each:,} monitors each; about {MAX_MONITORS_PER_OPERATOR} pictures at most "
        "(Tickner & Poulton)"
    ),
    HOURS_UNWATCHED: lambda w: (
        f"nobody on duty for {w.hours_unwatched} hour{'s' if w.hours_unwatched != 1 else ''} "
        "of the day"
    ),
}
