"""The recorders' read load in the report: a table and report.json's `reads` (the plot is
`plots.disk_load_png`)."""

from __future__ import annotations

from typing import Any

from simulator.model.reads import LIVE, READ_IOPS_PER_MBPS, ReadStats
from simulator.report.text import Table, num, pct


def reads_table(reads: ReadStats) -> Table:
    """Per server: playback from disk, live relayed, read IOPS and the disks' load."""
    n = reads.actions
    live = sum(n.get(k, 0) for k in LIVE)
    t = Table(
        f"Read load ({n.get('review', 0):,} reviews, {n.get('export', 0):,} exports, "
        f"{live:,} live views)" if n else "Read load (the recording's own reads; no operators)",
        ["server", "played MB/s mean/max", "live Mbps mean/p99", "read IOPS mean/p99",
         "disk IOPS p99/cap", "load%"],
    )  # fmt: skip
    for s in reads.servers:
        t.add(
            [
                s.name,
                f"{num(s.playback_mbyte_s_mean, 2)}/{num(s.playback_mbyte_s_max, 2)}",
                f"{num(s.live_mbps_mean, 0)}/{num(s.live_mbps_p99, 0)}",
                f"{num(s.read_iops_mean, 1)}/{num(s.read_iops_p99, 1)}",
                f"{num(s.disk_iops_p99, 0)}/{num(s.disk_iops_capability, 0)}",
                pct(s.disk_load_p99),
            ],
            s.disk_load_p99 > 1,
        )
    return t


def reads_dict(reads: ReadStats) -> dict[str, Any]:
    """report.json's `reads` section (not yet cleaned)."""
    return {
        "read_iops_per_mbps": READ_IOPS_PER_MBPS,
        "actions": dict(reads.actions),
        "servers_needed": reads.servers_needed,
        "servers": [
            {
                "name": s.name,
                "playback_mbyte_s_mean": s.playback_mbyte_s_mean,
                "playback_mbyte_s_max": s.playback_mbyte_s_max,
                "live_mbps_mean": s.live_mbps_mean,
                "live_mbps_p99": s.live_mbps_p99,
                "read_iops_mean": s.read_iops_mean,
                "read_iops_p99": s.read_iops_p99,
                "disk_iops_p99": s.disk_iops_p99,
                "disk_iops_capability": s.disk_iops_capability,
                "disk_load_p99": s.disk_load_p99,
            }
            for s in reads.servers
        ],
    }
