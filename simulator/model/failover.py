"""Failover: N+k standby recording servers taking over a failed server's cameras.

When a server cannot record (it failed, or its array was lost), the first standby free
takes all its cameras `delay_s` after the outage began (or after that standby came free);
they go back when the server is up again. Standbys are assumed not to fail themselves.
"""

from __future__ import annotations

import numpy as np


def runs(row: np.ndarray) -> list[tuple[int, int]]:
    """[first, last) of each run of True in a bool row."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], row.astype(np.int8), [0]])))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def covered(unavailable: np.ndarray, standby: int, delay_ticks: int) -> np.ndarray:
    """(servers, ticks) bool: when a standby records the server's cameras. Outages take the
    standbys first come, first served."""
    out = np.zeros_like(unavailable, dtype=bool)
    if standby <= 0:
        return out
    outages = sorted((a, b, s) for s in range(len(unavailable)) for a, b in runs(unavailable[s]))
    free_at = np.zeros(standby, dtype=np.int64)
    for a, b, s in outages:
        j = int(np.argmin(free_at))
        begin = max(a, int(free_at[j])) + delay_ticks
        if begin < b:
            out[s, begin:b] = True
            free_at[j] = b
    return out
