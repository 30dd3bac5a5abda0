"""Measures: what the recorders receive and keep over a run, collected chunk by chunk.

Per server and tick the ingest and streams; what the cameras would record (the demand
storage and servers are sized for), per group and per server-hour; recorded time and lost
time and demand by first cause. With the links' measures, turned into Results.
"""

from __future__ import annotations

import math

import numpy as np

from simulator.model.cameras import CameraTable
from simulator.model.link_measures import LinkMeasures
from simulator.model.recorders import (
    Recorder,
    iops_capacity,
    storage_fill,
    usable_tb,
    write_capacity_mbps,
    write_iops,
)
from simulator.model.results import (
    RecordingStats,
    Results,
    Series,
    ServerStats,
    Window,
)
from simulator.model.server_sizing import camera_groups, sizing_of
from simulator.model.states import States
from simulator.model.window import WindowResult
from simulator.scenario.schema import Scenario

TB = 1e12


class Measures:
    """Accumulates recorder and recording figures over the run's chunks."""

    def __init__(
        self,
        scenario: Scenario,
        states: States,
        servers: list[Recorder],
        server_of: np.ndarray,
    ) -> None:
        self.scenario, self.states, self.servers = scenario, states, servers
        self.server_of = server_of
        table: CameraTable = states.table
        ticks, self.tick = states.ticks, states.tick
        n_cam, n_srv = len(table), len(servers)
        self.server_matrix = np.zeros((n_srv, n_cam), dtype=np.float32)
        on = server_of >= 0
        self.server_matrix[server_of[on], np.flatnonzero(on)] = 1.0
        self.cameras_of = self.server_matrix.sum(axis=1)[:, None]  # (servers, 1)
        self.ingest = np.zeros((n_srv, ticks), dtype=np.float32)  # Mbps offered to each server
        self.streams = np.zeros((n_srv, ticks), dtype=np.float32)  # cameras being recorded
        self.demand = np.zeros((2, ticks), dtype=np.float32)  # Mbps, cameras meant to record
        self.districts_seen = np.unique(table.district)  # districts with cameras
        self.camera_group = camera_groups(scenario, table, servers, server_of)
        n_grp = len(scenario.recording.servers)
        self.group_matrix = np.zeros((n_grp, n_cam), dtype=np.float32)
        grouped = self.camera_group >= 0
        self.group_matrix[self.camera_group[grouped], np.flatnonzero(grouped)] = 1.0
        self.group_demand = np.zeros((2, n_grp, ticks), dtype=np.float32)  # as `demand`
        self.one_group = n_grp == 1 and bool((grouped | (table.recording == 0)).all())
        hours = math.ceil(ticks * self.tick / 3600)
        self.server_demand = np.zeros((n_srv, hours))  # bytes its cameras would record
        self.cam_ticks = {"expected": 0.0, "recorded": 0.0}
        causes = ("camera", "link", "server", "unassigned", "overload", "congestion")
        self.lost_ticks = dict.fromkeys(causes, 0.0)
        self.lost_bits = dict.fromkeys(causes, 0.0)  # of the demand, per tick (× tick: bits)
        # which servers record, and more causes of loss (cause → (servers, ticks) serving):
        # set by simulator.model.resilience for failover and disks
        self.serving = states.server_up
        self.more_causes: dict[str, np.ndarray] = {}

    def recording(
        self,
        a: int,
        b: int,
        main: np.ndarray,
        demand: np.ndarray,
        intended: np.ndarray,
        reach: np.ndarray,
    ) -> None:
        """What the cameras would record (the demand storage is sized for), what reaches the
        recorders and what they keep; lost time and demand by its first cause. `reach`:
        (districts, ticks) the share of each district's bytes that reaches the centre."""
        st, srv, n = self.states, self.server_of, b - a
        district = st.table.district
        assigned = srv >= 0
        srv_up = np.ones((len(srv), n), dtype=bool)
        srv_up[assigned] = self.serving[srv[assigned], a:b]
        ok = {  # by cause, in the order losses are blamed: where that part works
            "camera": st.camera_up(a, b),
            "link": st.camera_up(a, b, st.access_down) & (reach > 0)[district],
            "unassigned": assigned[:, None],
            "server": srv_up,
        }
        for cause, serving in self.more_causes.items():
            works = np.ones_like(srv_up)
            works[assigned] = serving[srv[assigned], a:b]
            ok[cause] = works
        alive = intended.copy()
        gone: list[np.ndarray] = []  # the cells lost, as flat (camera, tick) indices
        for cause, works in ok.items():
            lost = np.greater(alive, works)  # alive & ~works
            count = np.count_nonzero(lost)
            self.lost_ticks.setdefault(cause, 0.0)  # failover's and disks' causes too
            self.lost_bits.setdefault(cause, 0.0)
            if count:  # failures are rare: index only when there are some
                cells = np.flatnonzero(lost)  # (np.nonzero of a 2-D mask is 20 times slower)
                gone.append(cells)
                self.lost_ticks[cause] += float(count)
                self.lost_bits[cause] += float(np.take(demand, cells).sum(dtype=np.float64))
                alive &= works
        demand_by_server = self.server_matrix @ demand
        if reach[self.districts_seen].min(initial=1.0) < 1:  # some congestion loss in this chunk
            alive_f = alive.astype(np.float32)
            kept = alive_f * reach.astype(np.float32)[district]
            kept_ticks = float(kept.sum())
            self.lost_ticks["congestion"] += float(np.count_nonzero(alive)) - kept_ticks
            self.lost_bits["congestion"] += float((main * (alive_f - kept)).sum(dtype=np.float64))
            ingest = self.server_matrix @ (main * kept) / 1e6
            streams = self.server_matrix @ alive_f
        else:
            # Every district's bytes reach the centre, so a server receives its cameras' demand
            # less the few cells lost above (where alive, what is sent is the demand).
            kept_ticks = float(np.count_nonzero(alive))
            lost_bits, lost_n = self._by_server(gone, demand)
            if intended.all():
                streams = self.cameras_of - lost_n
            else:
                streams = self.server_matrix @ intended.astype(np.float32) - lost_n
            # what rounding leaves of a server all of whose cameras were lost is nothing
            ingest = np.where(streams > 0, np.maximum(demand_by_server - lost_bits, 0), 0) / 1e6
        limit = np.array([s.spec.ingest_limit_mbps for s in self.servers])[:, None]
        share = np.minimum(
            1.0, np.divide(limit, ingest, out=np.ones_like(ingest), where=ingest > 0)
        )
        overload = float((streams * (1 - share)).sum())
        self.lost_ticks["overload"] += overload
        self.lost_bits["overload"] += float((ingest * (1 - share)).sum(dtype=np.float64)) * 1e6
        self.cam_ticks["expected"] += float(np.count_nonzero(intended))
        self.cam_ticks["recorded"] += kept_ticks - overload
        self.ingest[:, a:b], self.streams[:, a:b] = ingest, streams
        self.demand[0, a:b] = demand.sum(axis=0) / 1e6
        self.demand[1, a:b] = np.count_nonzero(intended, axis=0)
        if self.one_group:  # the city's demand is the group's
            self.group_demand[:, 0, a:b] = self.demand[:, a:b]
        else:
            self.group_demand[0, :, a:b] = self.group_matrix @ demand / 1e6
            self.group_demand[1, :, a:b] = self.group_matrix @ intended.astype(np.float32)
        hour = (np.arange(a, b) * self.tick) // 3600
        per_server = demand_by_server.astype(np.float64) * self.tick / 8
        cuts = np.flatnonzero(np.diff(hour)) + 1
        for h, i, j in zip(hour[np.r_[0, cuts]], np.r_[0, cuts], np.r_[cuts, b - a], strict=True):
            # each hour's bytes summed tick after tick (a sequential cumsum, not pairwise)
            self.server_demand[:, h] += np.cumsum(per_server[:, i:j], axis=1)[:, -1]

    def _by_server(
        self, cells: list[np.ndarray], demand: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """(servers, ticks) demand (bits/s) and count of these flat (camera, tick) cells."""
        shape = (len(self.servers), demand.shape[1])
        if not cells:
            return np.zeros(shape, dtype=np.float32), np.zeros(shape, dtype=np.float32)
        flat = np.concatenate(cells)
        cam, tick = np.divmod(flat, shape[1])
        srv = self.server_of[cam]
        on = srv >= 0  # unassigned cameras reach no server
        cell = srv[on] * shape[1] + tick[on]
        size = shape[0] * shape[1]
        bits = np.bincount(cell, weights=np.take(demand, flat[on]), minlength=size)
        count = np.bincount(cell, minlength=size)
        return bits.reshape(shape).astype(np.float32), count.reshape(shape).astype(np.float32)

    def results(
        self,
        net: LinkMeasures,
        window: WindowResult,
        start_s: float,
        length_s: float,
        starts_s: dict[str, float],
    ) -> Results:
        """Turn the accumulated figures and the links' (`net`) into Results; `window` holds
        each link's frame-level figures from its window, which starts at `starts_s[link]`
        (the access links: the core's, at `start_s`)."""
        sc, tick = self.scenario, self.tick
        warnings: list[str] = []
        links = net.stats(window, start_s, starts_s)
        retention = sc.recording.retention_days
        days_axis, fill = storage_fill(self.server_demand, retention, sc.simulation.days)
        reserve_tb = sc.recording.free_space_reserve_gb / 1000
        servers = []
        for s, rec in enumerate(self.servers):
            iops = write_iops(self.ingest[s].astype(np.float64), self.streams[s])
            ing = self.ingest[s]
            servers.append(
                ServerStats(
                    name=rec.name,
                    cameras=int((self.server_of == s).sum()),
                    ingest_limit_mbps=rec.spec.ingest_limit_mbps,
                    max_streams=rec.spec.max_streams,
                    ingest_mean_mbps=float(ing.mean()),
                    ingest_p99_mbps=float(np.percentile(ing, 99)),
                    ingest_max_mbps=float(ing.max()),
                    write_iops_mean=float(iops.mean()),
                    write_iops_p99=float(np.percentile(iops, 99)),
                    iops_capacity=iops_capacity(rec.spec.disks),
                    write_capacity_mbps=write_capacity_mbps(rec.spec.disks),
                    usable_tb=usable_tb(rec.spec.disks),
                    storage_needed_tb=float(fill[s].max()) / TB + reserve_tb,
                    down_hours=float((~self.states.server_up[s]).sum()) * tick / 3600,
                )
            )
        sizing = sizing_of(
            sc, tick, self.camera_group, self.group_demand, self.demand[0], self.lost_bits,
            sum(s.usable_tb for s in servers),
        )  # fmt: skip
        recording = RecordingStats(
            expected_hours=self.cam_ticks["expected"] * tick / 3600,
            recorded_hours=self.cam_ticks["recorded"] * tick / 3600,
            lost_hours={k: v * tick / 3600 for k, v in self.lost_ticks.items()},
        )
        unassigned = int(((self.server_of < 0) & (self.states.table.recording > 0)).sum())
        if unassigned:
            warnings.append(f"{unassigned:,} cameras have no recording server with room for them")
        e2e = window.end_to_end_s
        return Results(
            scenario=sc.name,
            seed=sc.simulation.seed,
            cameras=len(self.states.table),
            days=sc.simulation.days,
            links=links,
            servers=servers,
            recording=recording,
            sizing=sizing,
            window=Window(
                start_s=start_s,
                length_s=length_s,
                frames=window.frames,
                end_to_end_p99_ms=float(np.percentile(e2e, 99) * 1e3) if e2e.size else 0.0,
            ),
            series=self._series(net, days_axis, fill),
            warnings=warnings,
        )

    def _series(self, net: LinkMeasures, days_axis: np.ndarray, fill: np.ndarray) -> Series:
        ticks = self.states.ticks
        per = max(1, math.ceil(ticks / 1440))
        steps = ticks // per

        def fold(x: np.ndarray, how: str) -> np.ndarray:
            x = x[..., : steps * per].reshape(*x.shape[:-1], steps, per)
            return x.max(axis=-1) if how == "max" else x.mean(axis=-1)

        util_mean, util_max = net.util_series(fold)
        stride = max(1, math.ceil(days_axis.size / 1000))
        table = self.states.table
        districts = [d.name for d in self.scenario.network.districts]
        return Series(
            step_s=per * self.tick,
            link_names=["access"] + [lk.name for lk in net.links],
            link_mean_util=util_mean,
            link_max_util=util_max,
            server_names=[s.name for s in self.servers],
            server_ingest_mbps=fold(self.ingest, "mean"),
            storage_days=days_axis[::stride],
            storage_fill_tb=fill[:, ::stride] / TB,
            camera_mean_mbps=net.camera_mean_mbps(),
            demand_hourly_tb=self.server_demand.sum(axis=0) / TB,
            camera_ids=list(table.ids),
            camera_districts=[districts[d] for d in table.district],
            camera_servers=[self.servers[s].name if s >= 0 else "" for s in self.server_of],
        )
