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
    usable_tb,
    write_capacity_mbps,
    write_iops,
)
from simulator.scenario.schema import Scenario, ServerGroup


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
