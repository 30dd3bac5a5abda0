"""Planning checks: which links, servers and totals are over a limit (presentation rules only)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from simulator.model.results import LinkStats, Results, ServerStats

PLANNING_UTIL = 0.8
"""Utilisation above which a link is flagged: the usual 80 % planning headroom rule."""


@dataclass(frozen=True)
class Flag:
    """One thing over a limit: what it is, its name, and which check it failed."""

    subject: str  # "link" | "server" | "storage" | "servers"
    name: str
    check: str  # short machine-readable rule, e.g. "p99_util>0.8"


def _over(value: float, limit: float) -> bool:
    """True when a finite value exceeds a finite, positive limit."""
    return math.isfinite(value) and math.isfinite(limit) and limit > 0 and value > limit


def link_checks(link: LinkStats) -> list[str]:
    """Rules a link fails: p99 utilisation over the planning line, or any loss."""
    failed = []
    if math.isfinite(link.p99_util) and link.p99_util > PLANNING_UTIL:
        failed.append(f"p99_util>{PLANNING_UTIL:g}")
    if link.loss_fraction > 0:
        failed.append("loss>0")
    if link.window_loss_fraction > 0:
        failed.append("window_loss>0")
    return failed


def server_checks(server: ServerStats) -> list[str]:
    """Rules a recording server fails: ingest, streams, IOPS or storage over its limit."""
    failed = []
    if _over(server.ingest_max_mbps, server.ingest_limit_mbps):
        failed.append("ingest_max>limit")
    if server.max_streams > 0 and server.cameras > server.max_streams:
        failed.append("cameras>max_streams")
    if _over(server.write_iops_p99, server.iops_capacity):
        failed.append("write_iops_p99>capacity")
    if _over(server.storage_needed_tb, server.usable_tb):
        failed.append("storage_needed>usable")
    return failed


def flags(results: Results) -> list[Flag]:
    """Every failed check in the run, in report order (totals, links, servers)."""
    out: list[Flag] = []
    s = results.sizing
    if s.servers_needed > s.servers_configured:
        out.append(Flag("servers", "recording", "needed>configured"))
    if _over(s.storage_needed_tb, s.storage_usable_tb):
        out.append(Flag("storage", "total", "needed>usable"))
    for link in results.links:
        out.extend(Flag("link", link.name, c) for c in link_checks(link))
    for server in results.servers:
        out.extend(Flag("server", server.name, c) for c in server_checks(server))
    return out


def findings(results: Results) -> list[str]:
    """What the reader should look at, as sentences: the model's own warnings, then every
    failed check."""
    out = list(results.warnings)
    s = results.sizing
    links = {lk.name: lk for lk in results.links}
    servers = {sv.name: sv for sv in results.servers}
    for flag in flags(results):
        if flag.subject == "servers":
            out.append(
                f"{s.servers_needed} recording servers needed (binding: {s.binding}), "
                f"{s.servers_configured} configured"
            )
        elif flag.subject == "storage":
            out.append(
                f"storage: {s.storage_needed_tb:,.0f} TB needed, "
                f"{s.storage_usable_tb:,.0f} TB usable"
            )
        elif flag.subject == "link":
            lk = links[flag.name]
            out.append(f"link {lk.name}: " + _LINK_TEXT[flag.check](lk))
        else:
            sv = servers[flag.name]
            out.append(f"server {sv.name}: " + _SERVER_TEXT[flag.check](sv))
    return out


_LINK_TEXT = {
    f"p99_util>{PLANNING_UTIL:g}": lambda lk: (
        f"p99 utilisation {lk.p99_util:.0%} above the {PLANNING_UTIL:.0%} planning line"
    ),
    "loss>0": lambda lk: f"loses {lk.loss_fraction:.3%} of its traffic (per-second model)",
    "window_loss>0": lambda lk: (
        f"loses {lk.window_loss_fraction:.3%} of its traffic in the busiest window"
    ),
}
_SERVER_TEXT = {
    "ingest_max>limit": lambda sv: (
        f"ingest peaks at {sv.ingest_max_mbps:,.0f} Mbps, limit {sv.ingest_limit_mbps:,.0f}"
    ),
    "cameras>max_streams": lambda sv: f"{sv.cameras} cameras, at most {sv.max_streams} streams",
    "write_iops_p99>capacity": lambda sv: (
        f"write IOPS p99 {sv.write_iops_p99:,.0f}, capacity {sv.iops_capacity:,.0f}"
    ),
    "storage_needed>usable": lambda sv: (
        f"needs {sv.storage_needed_tb:,.0f} TB, has {sv.usable_tb:,.0f} TB usable"
    ),
}
