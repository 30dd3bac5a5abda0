"""States: the discrete timeline turned into per-tick masks and factors the volume model reads.

Who is up, which path each district takes, whether it is night, how busy each street is, and
when motion-recording cameras see motion.
"""

from __future__ import annotations

import numpy as np

from simulator.model.cameras import activity_bitrate_factor
from simulator.model.city import City
from simulator.model.links import NetworkLink
from simulator.timeline.event import Event, LinkId

MAX_ACTIVITY = 1.5  # activity is clipped here; 1.0 is the city's busiest hour
#: From this many districts, a district's sum adds up the table's runs of one district's rows
#: (a segment sum, no gather); below, a dense product (BLAS) is faster: 1.6 ms against 5 ms at
#: 12 districts and 2M cells, 19 ms against 6 ms at 264 (this project's 2-core machine).
SEGMENT_SUMS_FROM = 100


Spans = dict[str, list[tuple[int, int]]]  # who → [(first tick down, first tick up), ...]


def _intervals(events: list[Event], down: str, up: str, key: str, tick: float, ticks: int) -> Spans:
    """{who: [(first tick down, first tick up), ...]} from down/up event pairs."""
    open_at: dict[str, int] = {}
    spans: dict[str, list[tuple[int, int]]] = {}
    for e in events:
        who = str(getattr(e, key))
        if e.kind == down:
            open_at[who] = int(e.t // tick)
        elif e.kind == up and who in open_at:
            spans.setdefault(who, []).append((open_at.pop(who), int(np.ceil(e.t / tick))))
    for who, start in open_at.items():
        spans.setdefault(who, []).append((start, ticks))
    return spans


def _mask(spans: list[tuple[int, int]], ticks: int) -> np.ndarray:
    up = np.ones(ticks, dtype=bool)
    for s, e in spans:
        up[s:e] = False
    return up


class States:
    """Per-tick state of the city, built once from the discrete events."""

    def __init__(self, city: City, events: list[Event], tick: int, ticks: int) -> None:
        scenario, table = city.scenario, city.table
        self.scenario, self.table, self.tick, self.ticks = scenario, table, tick, ticks
        names = [d.name for d in scenario.network.districts]
        self.district_matrix = np.zeros((len(names), len(table)), dtype=np.float32)
        self.district_matrix[table.district, np.arange(len(table))] = 1.0

        t = (np.arange(ticks) + 0.5) * tick
        start = scenario.simulation.start
        hour = (start.hour + start.minute / 60 + start.second / 3600 + t / 3600) % 24
        self.hourly = np.interp(
            hour, np.arange(24) + 0.5, scenario.activity.hourly, period=24
        ).astype(np.float32)
        self.night = np.zeros(ticks, dtype=bool)
        night_open = None
        for e in events:
            if e.kind == "night":
                night_open = int(e.t // tick)
            elif e.kind == "day" and night_open is not None:
                self.night[night_open : int(e.t // tick)] = True
                night_open = None
        if night_open is not None:
            self.night[night_open:] = True

        self.episode_factor = np.ones((len(names), ticks), dtype=np.float32)
        for e in events:
            if e.kind == "activity":
                s = int(e.t // tick)
                end = int((e.t + e.params["duration_s"]) // tick) + 1
                self.episode_factor[names.index(e.district), s:end] *= e.params["factor"]

        self.camera_down = _intervals(events, "camera_down", "camera_up", "camera", tick, ticks)
        links = _intervals(events, "link_down", "link_up", "link", tick, ticks)
        access = {k: v for k, v in links.items() if k.startswith("access:")}
        self.access_down = {LinkId.parse(k).name: v for k, v in access.items()}
        self.link_down_hours = {k: sum(e - s for s, e in v) * tick / 3600 for k, v in links.items()}

        def up(link: LinkId) -> np.ndarray:
            return _mask(links.get(str(link), []), ticks)

        self.uplink_up = np.stack([up(LinkId("uplink", n)) for n in names])
        self.backup_up = np.stack(
            [
                up(LinkId("backup", d.name)) if d.backup is not None else np.zeros(ticks, bool)
                for d in scenario.network.districts
            ]
        )
        self.core_up = up(LinkId("core"))
        servers = _intervals(events, "server_down", "server_up", "server", tick, ticks)
        self.server_up = np.stack([_mask(servers.get(r.name, []), ticks) for r in city.recorders])
        self._index = {cid: i for i, cid in enumerate(table.ids)}
        self._activity_scale = table.activity_scale.astype(np.float32)[:, None]
        edges = np.flatnonzero(np.diff(table.district)) + 1
        firsts = np.concatenate([[0], edges]).astype(int)
        lasts = np.concatenate([edges, [len(table)]]).astype(int)
        self._district_runs = [
            (int(table.district[r0]), int(r0), int(r1))
            for r0, r1 in zip(firsts, lasts, strict=True)
            if r1 > r0
        ]
        runs = np.array(self._district_runs).reshape(-1, 3)  # district, first row, end row
        self._run_first = runs[:, 1]
        self._run_district = np.zeros((len(names), len(runs)), dtype=np.float32)
        self._run_district[runs[:, 0], np.arange(len(runs))] = 1.0

    def mean_main_mbps(self) -> np.ndarray:
        """Each camera's expected main-stream rate over the run (hourly activity and nights)."""
        t = self.table
        hourly = np.asarray(self.scenario.activity.hourly)
        act = np.minimum(hourly[None, :] * t.activity_scale[:, None], MAX_ACTIVITY)
        factor = activity_bitrate_factor(act).mean(axis=1)
        factor *= 1 + self.night.mean() * (t.night_factor - 1)
        return np.where(t.cbr, t.main_mbps, np.minimum(t.main_mbps * factor, t.cap_mbps))

    def peak_main_mbps(self) -> np.ndarray:
        """Each camera's modelled peak main-stream rate over the run: its expected rate
        (target × the activity factor of the hour × the night factor after dusk, capped) at
        the run's busiest tick for it, by day or by night. The activity factor grows with
        activity, so that tick is the busiest hour of the day or of the night. Not in it: the
        districts' activity episodes (random, not known when cameras are placed) and the
        scene term, independent between cameras (CoV 0.12: a server's sum of n cameras
        varies by 0.12 / √n), which the planning line's margin is for."""
        t = self.table
        scale = t.activity_scale.astype(np.float64)
        peak = np.zeros(len(t))
        for night, factor in ((False, np.ones(len(t))), (True, t.night_factor)):
            hours = self.hourly[self.night == night]
            if hours.size:
                act = np.minimum(float(hours.max()) * scale, MAX_ACTIVITY)
                peak = np.maximum(peak, activity_bitrate_factor(act) * factor)
        return np.where(t.cbr, t.main_mbps, np.minimum(t.main_mbps * peak, t.cap_mbps))

    def activity(self, a: int, b: int, rows: np.ndarray | None = None) -> np.ndarray:
        """(cameras, ticks) street activity seen by each camera (or these rows only)."""
        if rows is None:
            act = self.hourly[None, a:b] * self._activity_scale
            for d, r0, r1 in self._district_runs:  # rows of one district: no gather
                act[r0:r1] *= self.episode_factor[d, a:b]
        else:
            act = self.hourly[None, a:b] * self._activity_scale[rows]
            act *= self.episode_factor[self.table.district[rows], a:b]
        return np.minimum(act, MAX_ACTIVITY, out=act)

    def district_sums(self, x: np.ndarray) -> np.ndarray:
        """(districts, ticks): the sum of x's rows (cameras, ticks) over each district."""
        if len(self.district_matrix) < SEGMENT_SUMS_FROM:
            return self.district_matrix @ x
        # each run of one district's rows summed in place, then the runs added up by district
        return self._run_district @ np.add.reduceat(x, self._run_first, axis=0)

    def camera_up(self, a: int, b: int, down: Spans | None = None) -> np.ndarray:
        """(cameras, ticks) bool: not failed (cameras, or access links with `down`)."""
        up = np.ones((len(self.table), b - a), dtype=bool)
        for cid, spans in (self.camera_down if down is None else down).items():
            row = self._index[cid]
            for s, e in spans:
                if s < b and e > a:
                    up[row, max(s, a) - a : min(e, b) - a] = False
        return up

    def sending(self, a: int, b: int) -> np.ndarray:
        """(cameras, ticks) bool: the camera and its access link are up."""
        return self.camera_up(a, b) & self.camera_up(a, b, self.access_down)

    def carries(self, link: NetworkLink, a: int, b: int) -> np.ndarray:
        """(ticks,) whether this district link carries its district's traffic."""
        up = self.uplink_up[link.district, a:b]
        if link.kind == "uplink":
            return up
        return ~up & self.backup_up[link.district, a:b]

    def carrying(self, links: list[NetworkLink], a: int, b: int) -> np.ndarray:
        """(links, ticks) bool: `carries` of each of these district links."""
        district = np.array([lk.district for lk in links], dtype=int)
        uplink = np.array([lk.kind == "uplink" for lk in links])[:, None]
        up = self.uplink_up[district, a:b]
        return np.where(uplink, up, ~up & self.backup_up[district, a:b])

    def path_at(self, tick: int, links: list[NetworkLink]) -> dict[int, NetworkLink | None]:
        """Each district's active link at a tick (None: cut off)."""
        path: dict[int, NetworkLink | None] = {}
        for link in links[:-1]:
            if link.kind != "core" and self.carries(link, tick, tick + 1)[0]:
                path[link.district] = link
            else:
                path.setdefault(link.district, None)
        return path

    def intended(
        self,
        a: int,
        b: int,
        activity: np.ndarray,
        carry: np.ndarray,
        rng: np.random.Generator,
    ) -> tuple[np.ndarray, np.ndarray]:
        """(cameras, ticks) bool: should be recorded; and the motion carry-over to the next chunk.

        Motion episodes start as a Poisson process whose rate follows activity (at activity
        0.5 the camera's `motion_episodes_per_h`), last an exponential time, and are recorded
        with their pre- and post-buffers. `carry` is the absolute tick each camera's last
        recorded episode runs to.
        """
        t = self.table
        n = b - a
        out = np.broadcast_to((t.recording == 1)[:, None], (len(t), n)).copy()
        motion = np.flatnonzero(t.recording == 2)
        if motion.size == 0:
            return out, carry
        rate_max = t.motion_per_h[motion] / 3600 * 2 * MAX_ACTIVITY * self.tick
        count = rng.poisson(rate_max * n)
        row = np.repeat(np.arange(motion.size), count)
        at = rng.random(row.size) * n
        col = at.astype(np.int64)
        accept = rng.random(row.size) * MAX_ACTIVITY < activity[motion[row], col]
        length = rng.exponential(t.motion_mean_s[motion[row]]) / self.tick
        row, at, length = row[accept], at[accept], length[accept]
        first = np.maximum(at - t.pre_s[motion[row]] / self.tick, 0).astype(np.int64)
        last = np.ceil(at + length + t.post_s[motion[row]] / self.tick).astype(np.int64)
        diff = np.zeros((motion.size, n + 1), dtype=np.int32)
        np.add.at(diff, (row, first), 1)
        np.add.at(diff, (row, np.minimum(last, n)), -1)
        carried = np.clip(carry[motion] - a, 0, n)
        np.add.at(diff, (np.arange(motion.size), 0), (carried > 0).astype(np.int32))
        np.add.at(diff, (np.arange(motion.size), carried), -(carried > 0).astype(np.int32))
        out[motion] = np.cumsum(diff, axis=1)[:, :n] > 0
        carry = carry.copy()
        ends = np.full(motion.size, 0, dtype=np.int64)
        np.maximum.at(ends, row, a + last)
        carry[motion] = np.maximum(carry[motion], ends)
        return out, carry
