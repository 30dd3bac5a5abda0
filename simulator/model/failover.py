"""Failover: N+k standby recording servers taking over a failed server's cameras.

When a server cannot record (it failed, or its array was lost), a standby that is free and up
takes all its cameras `delay_s` later; they go back when the server is up again. Standbys
fail and are repaired like servers (`failover.reliability`, by default the least available
server group's), each from its own generator of the seed tree's `world` child, keyed
`standby:<k>`, starting in its stationary state as every failing thing does (`world`). A
standby that is down is never failed over to: the outage takes the next free standby that
is up, or its cameras are lost until one is. A standby that fails while it records (or
while it takes over) drops those cameras, which fail over again, to the next one, after the
delay. Outages take the standbys first come, first served; the lowest-numbered standby
first.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable

import numpy as np

from simulator.model.disks import HOUR, spans_mask
from simulator.scenario.schema import Reliability


def runs(row: np.ndarray) -> list[tuple[int, int]]:
    """[first, last) of each run of True in a bool row."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], row.astype(np.int8), [0]])))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def standby_up(rel: Reliability, tick: float, ticks: int, rng: np.random.Generator) -> np.ndarray:
    """(ticks,) bool: when a standby is up. Down from the start with probability
    MTTR / (MTBF + MTTR), then alternating exponential repairs and up times (the draws
    `world` makes for a server, in the same order)."""
    horizon, spans = ticks * tick, []
    t = 0.0
    if rng.random() >= rel.mttr_h / (rel.mtbf_h + rel.mttr_h):  # starts up
        t = rng.exponential(rel.mtbf_h * HOUR)
    while t < horizon:
        up = t + rng.exponential(rel.mttr_h * HOUR)
        spans.append((t, min(up, horizon)))
        t = up + rng.exponential(rel.mtbf_h * HOUR)
    return ~spans_mask(spans, tick, ticks)


class _Standby:
    """One standby's down runs, for the next tick it is up or down from a given tick."""

    def __init__(self, up: np.ndarray) -> None:
        self.down = np.array(runs(~up), dtype=np.int64).reshape(-1, 2)
        self.ticks = up.size

    def _run(self, t: int) -> int:
        """Index of the first down run that ends after tick t."""
        return int(np.searchsorted(self.down[:, 1], t, side="right"))

    def next_down(self, t: int) -> int:
        """First tick at or after t it is down (`ticks` if never)."""
        i = self._run(t)
        return self.ticks if i == len(self.down) else max(t, int(self.down[i, 0]))

    def next_up(self, t: int) -> int:
        """First tick at or after t it is up (`ticks` if never)."""
        i = self._run(t)
        return t if i == len(self.down) or self.down[i, 0] > t else int(self.down[i, 1])


def covered(
    unavailable: np.ndarray, standbys_up: Iterable[np.ndarray], delay_ticks: int
) -> tuple[np.ndarray, int]:
    """((servers, ticks) bool: when a standby records the server's cameras, takeovers).

    standbys_up: each standby's (ticks,) bool up mask (read one at a time). Each outage
    seeks a standby at its start; one free and up is held from then until the outage ends or
    the standby fails, and records from `delay_ticks` later; without one, the outage seeks
    again when the first becomes free and up; when its standby fails, it seeks again at once.
    Seeks are served in time order (ties: the earlier outage), so at a zero delay the
    standbys recording at any tick are as many as they can be: min(servers unavailable,
    standbys up)."""
    out = np.zeros_like(unavailable, dtype=bool)
    standbys = [_Standby(row) for row in standbys_up]
    if not standbys:
        return out, 0
    free_at = np.zeros(len(standbys), dtype=np.int64)  # end of each standby's current hold
    seeks = [(a, a, s, b) for s in range(len(unavailable)) for a, b in runs(unavailable[s])]
    heapq.heapify(seeks)  # (tick, outage start, server, outage end)
    takeovers = 0
    while seeks:
        t, a, s, b = heapq.heappop(seeks)
        free = [j for j, sb in enumerate(standbys) if free_at[j] <= t and sb.next_up(t) == t]
        if not free:
            later = min(sb.next_up(max(t, int(free_at[j]))) for j, sb in enumerate(standbys))
            if later < b:
                heapq.heappush(seeks, (later, a, s, b))
            continue
        j = free[0]
        end = min(b, standbys[j].next_down(t))
        free_at[j] = end
        if t + delay_ticks < end:
            out[s, t + delay_ticks : end] = True
            takeovers += 1
        if end < b:  # the standby failed: the next one, after the delay
            heapq.heappush(seeks, (end, a, s, b))
    return out, takeovers
