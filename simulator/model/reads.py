"""Read load on the recorders: what reviews, exports and live views ask of them.

The operators' actions come from the same run and draw as the load tests' timeline
(`simulator.model.actions`): the Duty's requests and incidents, and the Wall's tour steps.
Each loads the server that records its camera:

- `review`, `export`: read `length_s` of the camera's recording from disk while the operator
  works on it (`duration_s`): R × S = the camera's recorded Mbps × length / duration (a
  review at its speed, × 4; an export at most at READ_SPEED_MAX);
- `live_view`, `live_transfer`, `incident_response`: the live stream relayed by the recorder
  (egress, no disk read).

Read IOPS follow AxxonSoft: 0.035 × M + 0.035 × R × S, M the Mbps being recorded (the VMS
reads while it writes, for its own service) and R × S the Mbps played back. The disks see
write IOPS × the RAID write penalty plus read IOPS, against count × IOPS per disk.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from simulator.model.actions import request_events, rota_windows, tour_steps
from simulator.model.city import City
from simulator.model.measures import Measures
from simulator.model.operators import Duty
from simulator.model.recorders import WRITE_PENALTY, write_iops
from simulator.model.results import ReadStats, ServerReads, Sizing
from simulator.model.server_sizing import city_binding, city_servers_needed
from simulator.model.wall import Wall
from simulator.scenario.recording import Disks
from simulator.timeline.event import Event

READ_IOPS_PER_MBPS = 0.035  # AxxonSoft: 4 MB blocks, 0.035 × M + 0.035 × R × S
DAY_S = 86400.0
READ_SPEED_MAX = 16.0  # an export reads at most this many times real time (assumption)
DISK_READS = ("review", "export")
LIVE = ("live_view", "live_transfer", "incident_response")


@dataclass
class ReadSpans:
    """Reads as intervals: server index, [start, end) s, Mbps, and whether from disk."""

    server: np.ndarray
    start_s: np.ndarray
    end_s: np.ndarray
    mbps: np.ndarray
    disk: np.ndarray


def event_spans(
    events: Iterable[Event], camera_index: dict[str, int], server_of: np.ndarray,
    camera_mbps: np.ndarray,
) -> ReadSpans:  # fmt: skip
    """The reads of timeline actions (other kinds, and unrecorded cameras, left out)."""
    rows = []
    for e in events:
        if e.kind not in DISK_READS and e.kind not in LIVE:
            continue
        cam = camera_index[e.camera]
        srv = int(server_of[cam])
        d = float(e.params["duration_s"])
        if srv < 0 or d <= 0:
            continue
        if e.kind in DISK_READS:
            length = float(e.params["length_s"])
            d = max(d, length / READ_SPEED_MAX)
            rows.append((srv, e.t, e.t + d, camera_mbps[cam] * length / d, True))
        else:
            rows.append((srv, e.t, e.t + d, camera_mbps[cam], False))
    cols = list(zip(*rows, strict=True)) if rows else [()] * 5
    return ReadSpans(
        np.array(cols[0], dtype=np.int64), *(np.array(c, dtype=float) for c in cols[1:4]),
        np.array(cols[4], dtype=bool),
    )  # fmt: skip


def per_tick(spans: ReadSpans, servers: int, tick: float, ticks: int, first: int = 0) -> np.ndarray:
    """(servers, ticks) mean Mbps of the spans over each of the ticks from `first` on, exact
    for any span bounds: a span adds its share of its first and last tick, and its rate to
    every tick between (a running sum of +rate / -rate)."""
    lo, hi = first * float(tick), (first + ticks) * float(tick)
    a = (np.clip(spans.start_s, lo, hi) - lo) / tick  # in ticks from `first`
    b = (np.clip(spans.end_s, lo, hi) - lo) / tick
    keep = b > a
    srv, a, b, r = spans.server[keep], a[keep], b[keep], spans.mbps[keep]
    ka, kb = np.floor(a).astype(np.int64), np.floor(b).astype(np.int64)
    width = ticks + 1  # kb may be `ticks` when a span runs to the end
    same = ka == kb
    at = np.concatenate([srv * width + ka, srv[~same] * width + kb[~same]])
    part = np.concatenate([
        r * np.where(same, b - a, ka + 1 - a), r[~same] * (b[~same] - kb[~same])
    ])  # fmt: skip
    out = np.bincount(at, part, servers * width)
    inner = ~same & (kb > ka + 1)
    steps = np.bincount(
        np.concatenate([srv[inner] * width + ka[inner] + 1, srv[inner] * width + kb[inner]]),
        np.concatenate([r[inner], -r[inner]]),
        servers * width,
    )
    out = out.reshape(servers, width) + np.cumsum(steps.reshape(servers, width), axis=1)
    return out[:, :ticks].astype(np.float64, copy=False)  # (no span at all: bincount gives ints)


def _split(spans: ReadSpans, keep: np.ndarray) -> ReadSpans:
    return ReadSpans(*(getattr(spans, f)[keep] for f in ReadSpans.__dataclass_fields__))


def duty_reads(
    city: City, duty: Duty, server_of: np.ndarray, camera_mbps: np.ndarray, tick: int,
    ticks: int,
) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:  # fmt: skip
    """What the operators did (the Duty, and the Wall's tour over its horizon, a day at a
    time) as (servers, ticks) Mbps played back from disk and relayed live, and the count of
    each kind of action that reads."""
    s = city.scenario
    n = len(city.recorders)
    requests, _ = request_events(city, duty)
    spans = event_spans(requests, city.camera_index, server_of, camera_mbps)
    played = per_tick(_split(spans, spans.disk), n, tick, ticks)
    relayed = per_tick(_split(spans, ~spans.disk), n, tick, ticks)
    counts = dict.fromkeys((*DISK_READS, *LIVE), 0)
    for e in requests:
        if e.kind in counts:
            counts[e.kind] += 1
    wall = Wall(s.operators, s.camera_count, s.simulation.start)
    windows = rota_windows(wall, duty.horizon_s)
    for a in np.arange(0.0, duty.horizon_s, DAY_S):
        tours = tour_steps(wall, windows, a, min(a + DAY_S, duty.horizon_s))
        counts["live_view"] += len(tours.t_s)
        srv = server_of[tours.camera]
        on = srv >= 0
        if not on.any():
            continue
        end = tours.t_s[on] + tours.duration_s[on]
        k0 = int(a // tick)
        k1 = min(ticks, math.ceil(float(end.max()) / tick))
        if k1 <= k0:
            continue
        live = ReadSpans(srv[on], tours.t_s[on], end, camera_mbps[tours.camera[on]], on[on])
        relayed[:, k0:k1] += per_tick(live, n, tick, k1 - k0, k0)
    return played, relayed, counts


def read_iops(recorded_mbps: np.ndarray, played_mbps: np.ndarray) -> np.ndarray:
    """AxxonSoft's read IOPS: 0.035 × M + 0.035 × R × S."""
    return READ_IOPS_PER_MBPS * recorded_mbps + READ_IOPS_PER_MBPS * played_mbps


def disk_iops(
    recorded_mbps: np.ndarray, streams: np.ndarray, played_mbps: np.ndarray, disks: Disks
) -> np.ndarray:
    """Back-end IOPS the array sees: writes × the RAID write penalty, plus reads."""
    writes = write_iops(recorded_mbps.astype(np.float64), streams)
    return writes * WRITE_PENALTY[disks.raid] + read_iops(recorded_mbps, played_mbps)


def disk_capability(disks: Disks) -> float:
    """Random IOPS the array's disks sustain together."""
    return disks.count * disks.iops_per_disk


def _fold(x: np.ndarray, per: int) -> np.ndarray:
    steps = x.shape[-1] // per
    return x[..., : steps * per].reshape(*x.shape[:-1], steps, per).mean(axis=-1)


def read_stats(
    names: list[str], disks: list[Disks], played: np.ndarray, relayed: np.ndarray,
    counts: dict[str, int], ingest: np.ndarray, streams: np.ndarray, groups: list[list[int]],
    planning_load: float, tick: int,
) -> ReadStats:  # fmt: skip
    """The read load from the Mbps played back and relayed and what the servers record, all
    (servers, ticks): `ingest`, `streams` per server; `groups` the servers of each server
    group, sized against `planning_load` of their disks' IOPS."""
    n, ticks = ingest.shape
    reads = read_iops(ingest.astype(np.float64), played)
    load = np.stack([
        disk_iops(ingest[s], streams[s], played[s], disks[s]) / disk_capability(disks[s])
        for s in range(n)
    ]) if n else np.zeros((0, ticks))  # fmt: skip
    servers = []
    for s in range(n):
        cap = disk_capability(disks[s])
        servers.append(ServerReads(
            names[s], float(played[s].mean()) / 8, float(played[s].max()) / 8,
            float(relayed[s].mean()), float(np.percentile(relayed[s], 99)),
            float(reads[s].mean()), float(np.percentile(reads[s], 99)),
            float(np.percentile(load[s], 99)) * cap, cap,
        ))  # fmt: skip
    needed = []  # per server group: what its servers record and play back, at p99
    for members in groups:
        if not members:
            needed.append(0)
            continue
        group = disk_iops(ingest[members].sum(axis=0), streams[members].sum(axis=0),
                          played[members].sum(axis=0), disks[members[0]])  # fmt: skip
        line = planning_load * disk_capability(disks[members[0]])
        needed.append(math.ceil(float(np.percentile(group, 99)) / line))
    per = max(1, math.ceil(ticks / 1440))
    return ReadStats(counts, servers, sum(needed), per * tick, _fold(reads, per),
                     _fold(load, per), needed)  # fmt: skip


def recorder_reads(
    city: City, duty: Duty | None, acc: Measures, camera_mbps: np.ndarray
) -> ReadStats:
    """The read load of a run: the operators' actions (none without operators) on top of
    what the servers recorded (`acc`, the run's Measures)."""
    if duty is None:
        played = relayed = np.zeros(acc.ingest.shape)
        counts: dict[str, int] = {}
    else:
        played, relayed, counts = duty_reads(
            city, duty, acc.server_of, camera_mbps, acc.tick, acc.states.ticks
        )
    return read_stats(
        [r.name for r in acc.servers], [r.spec.disks for r in acc.servers], played, relayed,
        counts, acc.ingest, acc.streams, _groups(city, acc), city.scenario.recording.planning_load,
        acc.tick,
    )  # fmt: skip


def _groups(city: City, acc: Measures) -> list[list[int]]:
    groups = city.scenario.recording.servers
    return [[i for i, r in enumerate(acc.servers) if r.spec is g] for g in groups]


def add_disk_iops(sizing: Sizing, reads: ReadStats) -> None:
    """The disks' write + read IOPS as one more constraint of each server group, and of the
    whole (each group needs the most of its own constraints)."""
    for group, needed in zip(sizing.groups, reads.group_needed, strict=True):
        group.by_constraint["disk_iops"] = needed
        if needed > group.servers_needed:
            group.servers_needed, group.binding = needed, "disk_iops"
    sizing.by_constraint["disk_iops"] = reads.servers_needed
    if sizing.groups:
        sizing.servers_needed = city_servers_needed(sizing.groups)
        sizing.binding = city_binding(sizing.groups)
