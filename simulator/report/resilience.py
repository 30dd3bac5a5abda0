"""Failover and disks in the report: tables and report.json's `resilience`."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from simulator.model.resilience import Resilience
from simulator.model.results import Results
from simulator.report.text import Table, count, duration, num, pct


def resilience_tables(results: Results) -> list[Table]:
    """Failover (with standbys) and each failing array's history and RAID risk."""
    r = results.resilience
    if r is None:
        return []
    tables = []
    if r.standby:
        t = Table(f"Failover (N+{r.standby})", ["item", "value", "note"], align="lrl")
        need = results.sizing.servers_needed
        t.add(
            [
                "standby servers",
                count(r.standby),
                f"{count(need)} needed + {count(r.standby)} = {count(need + r.standby)}",
            ]
        )
        t.add(["failover delay", duration(r.failover_delay_s), "cameras lost meanwhile"])
        t.add(["outages (server or array)", count(r.outages), f"{count(r.failovers)} takeovers"])
        t.add(["camera-hours on a standby", num(r.covered_camera_hours, 1), ""])
        t.add(["standby hours down", num(r.standby_down_hours, 1), "they fail like servers"])
        tables.append(t)
    if r.servers:
        t = Table(
            "Disks (risk per disk failure)",
            ["server", "RAID", "rebuild h", "failures", "degraded h", "lost", "2nd fail%",
             "loss% R5/R6", "losses/yr"],
        )  # fmt: skip
        for s in r.servers:
            t.add(
                [
                    s.name, f"{s.raid} × {s.disks}", num(s.rebuild_h, 1),
                    count(s.failures), num(s.degraded_hours, 1), count(s.arrays_lost),
                    pct(s.second_failure_p, 2),
                    f"{pct(s.loss_p['raid5'], 2)}/{pct(s.loss_p['raid6'], 3)}",
                    f"{s.losses_per_year:.3g}",
                ],
                s.arrays_lost > 0,
            )  # fmt: skip
        tables.append(t)
    return tables


def resilience_dict(r: Resilience) -> dict[str, Any]:
    """report.json's `resilience` section (not yet cleaned)."""
    return asdict(r)
