"""Resilience of the recorders in a run: disk failures and RAID rebuilds (`disks`), N+k
failover (`failover`), as the masks the run's Measures read, and the figures they give.

Lost camera-time goes to its first cause, as for every other cause: `server` (server down,
no standby yet), `disks` (array lost, no standby yet), and `degraded`: while a rebuild runs,
what the array cannot write at `degraded_write_factor` of its write IOPS and throughput.
Nothing changes unless the scenario sets `recording.failover.standby` or `disks.mtbf_h`.

The degraded loss is counted inside the run, chunk by chunk (`RecorderFailures.record`, called
by the chunk loop once the chunk's ingest and streams are known), as every other cause is: it
is the last cause of loss (after overload: of what the server took, what the array could not
write), so a chunk's degraded loss needs only that chunk's per-tick ingest and streams. It
gives camera-hours (`lost_hours["degraded"]`) and the demand not stored
(`Sizing.daily_lost_tb["degraded"]`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from simulator.model.city import City
from simulator.model.disks import (
    HOUR,
    ArrayHistory,
    array_history,
    loss_p,
    rebuild_s,
    second_failure_p,
    spans_mask,
)
from simulator.model.failover import covered, runs, standby_up
from simulator.model.measures import Measures
from simulator.model.recorders import iops_capacity, write_capacity_mbps, write_iops
from simulator.model.states import States
from simulator.scenario.recording import Disks

YEAR_H = 8760.0


@dataclass
class ServerDisks:
    """One server's array: what happened in the run, and its analytic risk."""

    name: str
    raid: str
    disks: int
    mtbf_h: float
    rebuild_h: float  # size / rebuild rate
    failures: int  # disk failures in the run
    degraded_hours: float
    arrays_lost: int
    second_failure_p: float  # another disk fails during a rebuild
    loss_p: dict[str, float]  # a disk failure ends in the array's loss: raid5, raid6
    losses_per_year: float  # expected array losses a year at its RAID level


@dataclass
class Resilience:
    """Failover and disks over a run."""

    standby: int
    failover_delay_s: float
    outages: int  # server or array outages
    failovers: int  # takeovers by a standby (again when the standby recording them failed)
    covered_camera_hours: float  # recorded on a standby
    standby_down_hours: float  # summed over the standbys (they fail like servers)
    servers: list[ServerDisks]  # servers whose disks fail (`disks.mtbf_h`)


def _analytic(name: str, disks: Disks, failures: int, degraded_h: float, lost: int) -> ServerDisks:
    rebuild_h = rebuild_s(disks) / HOUR
    n, mtbf = disks.count, disks.mtbf_h
    p = {raid: loss_p(raid, n, mtbf, rebuild_h) for raid in ("raid5", "raid6")}
    per_year = n * YEAR_H / mtbf * loss_p(disks.raid, n, mtbf, rebuild_h)
    return ServerDisks(
        name, disks.raid, n, mtbf, rebuild_h, failures, degraded_h, lost,
        second_failure_p(n, mtbf, rebuild_h), p, per_year,
    )  # fmt: skip


class RecorderFailures:
    """The recorders' failures in a run, drawn before its chunks: disk histories (lost
    arrays, rebuilds) and what the failover standbys cover."""

    def __init__(self, city: City, states: States) -> None:
        rec = city.scenario.recording
        tick, ticks = states.tick, states.ticks
        horizon = ticks * tick
        self.servers = city.recorders
        self.array_up = np.ones_like(states.server_up)
        self.degraded = np.zeros_like(states.server_up)
        self.histories: dict[int, ArrayHistory] = {}
        for s, r in enumerate(self.servers):
            if r.spec.disks.mtbf_h is None:
                continue
            h = array_history(
                r.spec.disks, horizon, city.seeds.generator("world", f"disks:{r.name}")
            )
            self.histories[s] = h
            self.array_up[s] = ~spans_mask(h.lost, tick, ticks)
            self.degraded[s] = spans_mask(h.degraded, tick, ticks)
        self.standby, self.delay_s = rec.failover.standby, rec.failover.delay_s
        rel = rec.failover.reliability or max(
            (g.reliability for g in rec.servers), key=lambda r: r.mttr_h / (r.mtbf_h + r.mttr_h)
        )
        self.standby_down_ticks = 0

        def standbys() -> Iterator[np.ndarray]:
            for k in range(self.standby):
                up = standby_up(rel, tick, ticks, city.seeds.generator("world", f"standby:{k + 1}"))
                self.standby_down_ticks += int((~up).sum())
                yield up

        down = ~states.server_up | ~self.array_up
        self.covered, self.failovers = covered(down, standbys(), math.ceil(self.delay_s / tick))
        self.outages = sum(len(runs(row)) for row in down)

    @property
    def active(self) -> bool:
        return self.standby > 0 or bool(self.histories)

    def attach(self, acc: Measures) -> None:
        """Make the run's Measures count servers covered by a standby as recording, and
        lost arrays as a cause of their own."""
        acc.serving = acc.states.server_up | self.covered
        if self.histories:
            acc.more_causes = {"disks": self.array_up | self.covered}

    def record(self, acc: Measures, a: int, b: int) -> None:
        """Lost camera-time while degraded in ticks [a, b), taken from what was recorded there
        (the chunk's ingest and streams are in `acc`): what the array's degraded write IOPS
        and throughput cannot take of what the server took."""
        if not self.histories:
            return
        lost_degraded = lost_bits = 0.0
        for s in self.histories:
            spec = self.servers[s].spec
            on = self.degraded[s, a:b] & acc.states.server_up[s, a:b] & self.array_up[s, a:b]
            if not on.any():
                continue
            ingest = acc.ingest[s, a:b][on].astype(np.float64)
            streams = acc.streams[s, a:b][on].astype(np.float64)
            limit = spec.ingest_limit_mbps
            share = np.minimum(1.0, np.divide(limit, ingest, out=np.ones_like(ingest),
                                              where=ingest > 0))  # fmt: skip
            written, cams = ingest * share, streams * share
            f = spec.disks.degraded_write_factor
            need = write_iops(written, cams)
            keep = np.minimum.reduce([
                np.ones_like(written),
                np.divide(f * iops_capacity(spec.disks), need, out=np.ones_like(need),
                          where=need > 0),
                np.divide(f * write_capacity_mbps(spec.disks), written,
                          out=np.ones_like(written), where=written > 0),
            ])  # fmt: skip
            lost_degraded += float((cams * (1 - keep)).sum())
            lost_bits += float((written * (1 - keep)).sum()) * 1e6
        acc.lost_ticks["degraded"] = acc.lost_ticks.get("degraded", 0.0) + lost_degraded
        acc.lost_bits["degraded"] = acc.lost_bits.get("degraded", 0.0) + lost_bits
        acc.cam_ticks["recorded"] -= lost_degraded

    def finish(self, acc: Measures) -> Resilience:
        """The figures of the run's failover and disks (their losses are in `acc` already)."""
        tick = acc.tick
        covered_h = float((acc.streams * self.covered).sum()) * tick / HOUR
        disks = [
            _analytic(
                self.servers[s].name, self.servers[s].spec.disks, len(h.failures),
                float(self.degraded[s].sum()) * tick / HOUR, len(h.lost),
            )
            for s, h in self.histories.items()
        ]  # fmt: skip
        down_h = self.standby_down_ticks * tick / HOUR
        return Resilience(
            self.standby, self.delay_s, self.outages, self.failovers, covered_h, down_h, disks
        )
