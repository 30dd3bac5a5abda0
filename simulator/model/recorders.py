"""Recorders: recording servers, which cameras each records, their disks and storage.

Write IOPS follow AxxonSoft's rule (0.065 × Mbps for cameras above ~3.6 Mbps, else 0.29 per
camera); a RAID array's random-write IOPS are its disks' IOPS over the RAID write penalty.
Storage holds `retention_days` of video plus the free-space reserve (Milestone: 5 GB).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.model.cameras import CameraTable
from simulator.scenario.recording import Disks, ServerGroup
from simulator.scenario.schema import Scenario

DATA_DISKS = {
    "raid0": lambda n: n,
    "raid1": lambda n: n / 2,
    "raid5": lambda n: n - 1,
    "raid6": lambda n: n - 2,
    "raid10": lambda n: n / 2,
}
WRITE_PENALTY = {"raid0": 1, "raid1": 2, "raid5": 4, "raid6": 6, "raid10": 2}
IOPS_PER_MBPS = 0.065
IOPS_PER_SMALL_CAMERA = 0.29
SMALL_CAMERA_MBPS = 3.6


def usable_tb(disks: Disks) -> float:
    """Usable capacity of a RAID array, TB."""
    return DATA_DISKS[disks.raid](disks.count) * disks.size_tb


def iops_capacity(disks: Disks) -> float:
    """Random-write IOPS an array sustains."""
    return disks.count * disks.iops_per_disk / WRITE_PENALTY[disks.raid]


def write_capacity_mbps(disks: Disks) -> float:
    """Sequential write throughput of an array, Mbit/s."""
    return DATA_DISKS[disks.raid](disks.count) * disks.write_mbyte_s_per_disk * 8


def write_iops(total_mbps: np.ndarray, cameras: np.ndarray) -> np.ndarray:
    """Write IOPS of a recorder given its ingest (Mbps) and recording cameras, per step."""
    per_cam = np.divide(total_mbps, cameras, out=np.zeros_like(total_mbps), where=cameras > 0)
    return np.where(
        per_cam > SMALL_CAMERA_MBPS, IOPS_PER_MBPS * total_mbps, IOPS_PER_SMALL_CAMERA * cameras
    )


@dataclass(frozen=True)
class Recorder:
    """One recording server."""

    name: str
    spec: ServerGroup


def recorders(scenario: Scenario) -> list[Recorder]:
    """Every recording server, groups expanded, numbered when a group has several."""
    return [
        Recorder(g.name if g.count == 1 else f"{g.name}-{k + 1}", g)
        for g in scenario.recording.servers
        for k in range(g.count)
    ]


def camera_iops(mbps: np.ndarray) -> np.ndarray:
    """Each camera's share of its recorder's write IOPS at rate `mbps` (AxxonSoft's rule)."""
    return np.where(mbps > SMALL_CAMERA_MBPS, IOPS_PER_MBPS * mbps, IOPS_PER_SMALL_CAMERA)


def assign(
    scenario: Scenario, table: CameraTable, servers: list[Recorder], peak_mbps: np.ndarray
) -> np.ndarray:
    """Server index of each recording camera (-1: not recorded or no room on any server).

    Cameras are counted at their modelled peak, `peak_mbps` (`States.peak_main_mbps`: the
    cameras of a city peak together, in the evening or at night, so a server's peak is the
    sum of its cameras' peaks; at their mean, a server filled to the line ran over its limit
    at the peak while others of its group held nothing), each as one stream, its peak Mbps
    (against the ingest limit and the disks' write throughput) and its write IOPS at that
    rate, against the planning line, `recording.planning_load` of each limit.

    `by_district` fills servers to an even level and keeps a district on as few servers as
    that allows: each server's level is the share of its line it would hold were every
    camera spread evenly over the servers that may take it (a district several groups take
    split in proportion to their line capacity), capped at the line. Districts, busiest
    first, go to the least-loaded eligible server (relative to its limits; ties by name, so
    the order of the server groups does not matter), which keeps taking the district's
    cameras up to its level, then the next least loaded takes over. Every eligible server
    thus ends near the same share (within a camera's peak), none above the line while
    another has room under it. When every eligible server is at the line, the least loaded
    with a stream free takes the camera. (A bin packing of whole districts would keep
    districts together but leaves servers uneven; this is the even spread, and a district
    is split only where the level falls.)
    `round_robin` deals cameras out in turn (in the servers' order), each to the next server
    below the line, or, when every eligible server is at it, to the next with a stream free.
    A server group that lists `districts` only takes those districts' cameras.
    """
    names = [d.name for d in scenario.network.districts]
    plan = scenario.recording.planning_load
    room = np.array([s.spec.max_streams for s in servers])
    out = np.full(len(table), -1)
    recorded = np.flatnonzero(table.recording > 0)
    limit = plan * np.array([_limits(s.spec) for s in servers])  # the line, per server
    load = np.zeros_like(limit)
    need = np.stack([np.ones(len(table)), peak_mbps, camera_iops(peak_mbps)], axis=1)
    takes = np.array(
        [[s.spec.districts is None or n in s.spec.districts for s in servers] for n in names]
    ).reshape(len(names), len(servers))  # (districts, servers)

    def candidates(cam: int, ok: np.ndarray) -> np.ndarray:
        """Servers below the line with this camera on, else (all at it) any with room."""
        fits = ok & (room > 0) & ((load + need[cam]) <= limit).all(axis=1)
        return np.flatnonzero(fits if fits.any() else ok & (room > 0))

    def place(cam: int, server: int) -> None:
        out[cam] = server
        load[server] += need[cam]
        room[server] -= 1

    if scenario.recording.assignment == "round_robin":
        turn = 0  # the server whose turn it is
        for cam in recorded:
            ok = candidates(cam, takes[table.district[cam]])
            if ok.size:
                server = int(ok[np.argmin((ok - turn) % len(servers))])
                place(cam, server)
                turn = server + 1
        return out
    by_name = np.argsort(np.argsort([s.name for s in servers], kind="stable"))
    demand = np.zeros((len(names), need.shape[1]))
    np.add.at(demand, table.district[recorded], need[recorded])
    level = np.minimum(even_level(demand, takes, limit), 1.0)[:, None] * limit * (1 + 1e-9)
    for district in np.argsort(-demand[:, 1], kind="stable"):
        server = -1
        for cam in recorded[table.district[recorded] == district]:
            if server < 0 or room[server] == 0 or (load[server] + need[cam] > level[server]).any():
                choice = candidates(cam, takes[district])
                if not choice.size:
                    break
                share = (load[choice] / limit[choice]).max(axis=1)
                server = choice[np.lexsort((by_name[choice], share))[0]]
            place(cam, server)
    return out


def even_level(demand: np.ndarray, takes: np.ndarray, limit: np.ndarray) -> np.ndarray:
    """Per server, the share of its line (highest over streams, Mbps and IOPS) it holds when
    each district's demand (districts, measures) is split over the servers that take it
    (`takes`, districts × servers) in proportion to their line (`limit`, servers × measures)."""
    capacity = takes.astype(float) @ limit  # (districts, measures): the line of its servers
    per_line = np.divide(demand, capacity, out=np.zeros_like(demand), where=capacity > 0)
    return (takes.T.astype(float) @ per_line).max(axis=1)


def _limits(spec: ServerGroup) -> list[float]:
    """A server's streams, Mbps (ingest and disk write throughput) and write IOPS limits."""
    ingest = min(spec.ingest_limit_mbps, write_capacity_mbps(spec.disks))
    return [spec.max_streams, ingest, iops_capacity(spec.disks)]


def storage_fill(
    written_per_hour: np.ndarray, retention_days: float, days: float
) -> tuple[np.ndarray, np.ndarray]:
    """Occupied storage over time, per server, with deletion after the retention period.

    written_per_hour: (servers, hours) bytes, the last hour possibly only partly simulated
    (`days` says how much). The simulated hours repeat, each at its own rate (a year's end is
    followed by the same season as its start; a shorter run stands for the days that follow
    it), from an empty store for the retention period and then for one whole run more, so the
    store passes through every hour of the run full: its maximum is the largest retention
    window of the repeating run, one that wraps past its end included. Returns (days axis,
    occupied bytes (servers, points)).
    """
    servers, hours = written_per_hour.shape
    last = days * 24 - (hours - 1)  # length of the last hour bin, in hours
    rate = written_per_hour.astype(np.float64).copy()
    if 0 < last < 1:
        rate[:, -1] /= last
    keep = int(round(retention_days * 24))
    horizon = keep + hours
    reps = -(-horizon // hours)
    series = np.tile(rate, (1, reps))[:, :horizon]
    total = np.concatenate([np.zeros((servers, 1)), np.cumsum(series, axis=1)], axis=1)
    older = np.concatenate([np.zeros((servers, keep)), total[:, :-keep]], axis=1)[:, : horizon + 1]
    occupied = total - older
    return np.arange(horizon + 1) / 24, occupied
