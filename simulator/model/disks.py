"""Disks: failures and RAID rebuilds of a recorder's array, and the risk of losing it.

Each disk fails after an exponential time (`disks.mtbf_h`); a failed disk is replaced at once
(a hot spare) and rebuilt in size / rebuild rate. A disk being rebuilt onto does not fail.
A failure during a rebuild restarts it, for every failed disk at once (as Linux md restarts
a recovery), so the array is healthy again one rebuild time after its latest failure. While
a rebuild runs the array is degraded: it keeps `degraded_write_factor` of its write IOPS and
throughput. When more disks are down at once than the RAID level survives (RAID 0: none,
RAID 1/5/10: one, RAID 6: two) the array is lost: its recordings are gone and the server
records nothing until a new array is built, one rebuild time later. RAID 1 and 10 are taken
as surviving one failure only (a RAID 10 may survive a second in another mirror pair). Each
server's history comes from the seed tree's `world` child, keyed `disks:<server>`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from simulator.scenario.recording import Disks

HOUR = 3600.0
TOLERATES = {"raid0": 0, "raid1": 1, "raid5": 1, "raid6": 2, "raid10": 1}  # disks down at once


def rebuild_s(disks: Disks) -> float:
    """Time to rebuild one disk: its size over the rebuild rate."""
    return disks.size_tb * 1e6 / disks.rebuild_mbyte_s


def second_failure_p(count: int, mtbf_h: float, rebuild_h: float) -> float:
    """Probability that another of the array's disks fails during a rebuild."""
    return -math.expm1(-(count - 1) * rebuild_h / mtbf_h)


def loss_p(raid: str, count: int, mtbf_h: float, rebuild_h: float) -> float:
    """Probability that a disk failure in a healthy array ends in the array's loss.

    With n disks, failure rate λ and rebuild time T: RAID 1/5/10 lose it to a second failure
    during the rebuild, 1 - exp(-(n-1)λT); RAID 6 to a second and then, the rebuild having
    restarted, a third within T of the second: (1 - exp(-(n-1)λT)) (1 - exp(-(n-2)λT))."""
    tolerates = TOLERATES[raid]
    p = 1.0
    for k in range(tolerates):
        p *= -math.expm1(-(count - 1 - k) * rebuild_h / mtbf_h)
    return p


@dataclass
class ArrayHistory:
    """One array over a run: disk failures, degraded and lost spans (seconds)."""

    failures: np.ndarray  # time of each disk failure
    degraded: list[tuple[float, float]]  # a rebuild runs (array not lost)
    lost: list[tuple[float, float]]  # the array is lost and being re-created
    episodes: int  # failures that found the array healthy
    second_failures: int  # episodes with a second failure during the rebuild


def array_history(disks: Disks, horizon_s: float, rng: np.random.Generator) -> ArrayHistory:
    """Disk failures, rebuilds and array losses over [0, horizon_s)."""
    assert disks.mtbf_h is not None
    mtbf_s, t_r, n = disks.mtbf_h * HOUR, rebuild_s(disks), disks.count
    tolerates = TOLERATES[disks.raid]
    failures: list[float] = []
    degraded: list[tuple[float, float]] = []
    lost: list[tuple[float, float]] = []
    t = start = end = 0.0
    down = episodes = seconds = 0  # disks being rebuilt; the rebuild ends at `end`
    while t < horizon_s:
        nxt = t + rng.exponential(mtbf_s / (n - down))  # memoryless: redrawn at each change
        if down and end <= nxt:
            degraded.append((start, end))
            t, down = end, 0
            continue
        t = nxt
        if t >= horizon_s:
            break
        failures.append(t)
        if down == 0:
            episodes, start = episodes + 1, t
        elif down == 1:
            seconds += 1
        down, end = down + 1, t + t_r
        if down > tolerates:  # more disks down than the RAID level survives
            if t > start:
                degraded.append((start, t))
            lost.append((t, t + t_r))
            t, down = t + t_r, 0
    if down:
        degraded.append((start, end))
    return ArrayHistory(
        np.array(failures),
        [(a, min(b, horizon_s)) for a, b in degraded if a < horizon_s],
        [(a, min(b, horizon_s)) for a, b in lost],
        episodes,
        seconds,
    )


def spans_mask(spans: list[tuple[float, float]], tick: float, ticks: int) -> np.ndarray:
    """(ticks,) bool: True in every tick a span touches."""
    out = np.zeros(ticks, dtype=bool)
    for a, b in spans:
        out[int(a // tick) : int(math.ceil(b / tick))] = True
    return out
