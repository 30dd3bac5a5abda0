"""Servers needed: for each server group, how many of its servers would carry what it records.

Each group is sized on its own hardware for the demand of the cameras it records (those the
assignment gave its servers; a camera no server had room for counts in the eligible group with
the most streams per server, ties by name), so the order the groups are listed in does not
matter. Ingest, streams, write IOPS and disk write throughput are counted against the planning
load (`recording.planning_load`) of each server limit, at the demand's p99; storage against a
server's usable capacity.
"""

from __future__ import annotations

import math

import numpy as np

from simulator.model.cameras import CameraTable
from simulator.model.recorders import (
    Recorder,
    iops_capacity,
    storage_fill,
    usable_tb,
    write_capacity_mbps,
    write_iops,
)
from simulator.model.results import GroupSizing, Sizing
from simulator.scenario.recording import ServerGroup
from simulator.scenario.schema import Scenario

TB = 1e12


def camera_groups(
    scenario: Scenario, table: CameraTable, servers: list[Recorder], server_of: np.ndarray
) -> np.ndarray:
    """Index in `recording.servers` of each camera's group (-1: not recorded, or no group
    takes its district)."""
    groups = scenario.recording.servers
    of_server = np.array([next(i for i, g in enumerate(groups) if g is s.spec) for s in servers])
    out = np.full(len(table), -1)
    on = server_of >= 0
    out[on] = of_server[server_of[on]]
    districts = [d.name for d in scenario.network.districts]
    order = sorted(range(len(groups)), key=lambda i: (-groups[i].max_streams, groups[i].name))
    for cam in np.flatnonzero(~on & (table.recording > 0)):
        name = districts[int(table.district[cam])]
        takes = [i for i in order if groups[i].districts is None or name in groups[i].districts]
        out[cam] = takes[0] if takes else -1
    return out


def servers_needed(
    spec: ServerGroup,
    planning_load: float,
    demand_mbps: np.ndarray,
    demand_cameras: np.ndarray,
    cameras: int,
    storage_tb: float,
) -> dict[str, int]:
    """Servers of this hardware needed under each constraint alone, for a demand of
    `demand_mbps` and `demand_cameras` per tick from `cameras` streams and `storage_tb`."""
    if cameras == 0:
        return dict.fromkeys(("ingest", "streams", "storage", "write_iops", "write_throughput"), 0)
    p99_mbps = float(np.percentile(demand_mbps, 99))
    iops = write_iops(demand_mbps.astype(np.float64), demand_cameras.astype(np.float64))
    p99_iops = float(np.percentile(iops, 99))
    line = planning_load
    return {
        "ingest": math.ceil(p99_mbps / (line * spec.ingest_limit_mbps)),
        "streams": math.ceil(cameras / (line * spec.max_streams)),
        "storage": math.ceil(storage_tb / usable_tb(spec.disks)),
        "write_iops": math.ceil(p99_iops / (line * iops_capacity(spec.disks))),
        "write_throughput": math.ceil(p99_mbps / (line * write_capacity_mbps(spec.disks))),
    }


def sizing_of(
    scenario: Scenario,
    tick: int,
    camera_group: np.ndarray,
    group_demand: np.ndarray,
    demand_mbps: np.ndarray,
    lost_bits: dict[str, float],
    usable_tb_total: float,
) -> Sizing:
    """Servers needed per group and in all, and the storage the demand needs.

    group_demand: (2, groups, ticks) Mbps and cameras meant to be recorded; demand_mbps:
    (ticks,) the same Mbps over every camera; lost_bits: bits/s × ticks not stored, by cause.
    """
    rec, days = scenario.recording, scenario.simulation.days
    reserve_tb = rec.free_space_reserve_gb / 1000
    groups = []
    for g, spec in enumerate(rec.servers):
        cams = int((camera_group == g).sum())
        mbps, streams = group_demand[:, g]
        tb, _ = _storage_tb(mbps, tick, rec.retention_days, days)
        by = servers_needed(spec, rec.planning_load, mbps, streams, cams, tb)
        binding = max(by, key=lambda k: by[k])
        groups.append(
            GroupSizing(
                spec.name, cams, spec.count, by[binding], binding, by,
                storage_needed_tb=tb + reserve_tb * spec.count,
                storage_usable_tb=usable_tb(spec.disks) * spec.count,
                ingest_p99_mbps=float(np.percentile(mbps, 99)) if mbps.size else 0.0,
            )
        )  # fmt: skip
    needed_tb, daily_tb = _storage_tb(demand_mbps, tick, rec.retention_days, days)
    servers = sum(g.count for g in rec.servers)
    return Sizing(
        servers_configured=servers,
        servers_needed=city_servers_needed(groups),
        binding=city_binding(groups),
        by_constraint=summed(groups),
        storage_needed_tb=needed_tb + reserve_tb * servers,
        storage_usable_tb=usable_tb_total,
        daily_write_tb=daily_tb,
        planning_load=rec.planning_load,
        link_planning_load=scenario.network.planning_load,
        daily_lost_tb={k: v * tick / 8 / TB / days for k, v in lost_bits.items()},
        groups=groups,
    )


def city_servers_needed(groups: list[GroupSizing]) -> int:
    """The city's servers needed: each group's binding constraint, summed (at least 1)."""
    return max(1, sum(g.servers_needed for g in groups))


def city_binding(groups: list[GroupSizing]) -> str:
    """The binding constraint of the group that needs the most servers (ties by name)."""
    return min(groups, key=lambda z: (-z.servers_needed, z.name)).binding


def summed(groups: list[GroupSizing]) -> dict[str, int]:
    """Each constraint's servers summed over the groups."""
    keys = dict.fromkeys(k for g in groups for k in g.by_constraint)
    return {k: sum(g.by_constraint.get(k, 0) for g in groups) for k in keys}


def _storage_tb(mbps: np.ndarray, tick: int, retention: float, days: float) -> tuple[float, float]:
    """(TB held at retention steady state, TB a day) for a demand of `mbps` per tick."""
    per_tick = mbps.astype(np.float64) * 1e6 * tick / 8
    hour = (np.arange(per_tick.size) * tick) // 3600
    hourly = np.bincount(hour, weights=per_tick, minlength=math.ceil(per_tick.size * tick / 3600))
    _, fill = storage_fill(hourly[None, :], retention, days)
    return float(fill.max()) / TB, float(hourly.sum()) / TB / days
