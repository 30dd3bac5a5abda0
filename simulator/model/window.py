"""The frame-level window: every frame of every camera through access, district and core links.

A camera hands each frame to its own link at once (a burst); switches forward packets as they
arrive, so a frame reaches the next link one packet after its first byte left the previous
one, plus that link's latency, and its bytes arrive at the previous link's rate. Each link is
a drop-tail FIFO (links.frame_queue, links.spread_queue); what a full buffer drops does not
travel further. Districts are independent up to the core, so they are computed one at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.model.cameras import CameraTable
from simulator.model.links import MTU, FrameQueue, NetworkLink, frame_queue, spread_queue
from simulator.model.traffic import SUB_GOP_S, GopPattern, frame_schedule
from simulator.scenario.schema import Link


@dataclass
class LinkWindow:
    """What one link saw in the window."""

    offered_bytes: float
    lost_bytes: float
    waits_s: np.ndarray  # queueing delay of each frame that reached the link


@dataclass
class WindowResult:
    """Per-link outcomes (access links pooled under "access") and end-to-end delays."""

    links: dict[str, LinkWindow]
    frames: int
    end_to_end_s: np.ndarray  # camera → centre, frames delivered whole


@dataclass
class Frames:
    """The frames offered to the network in the window: one entry per frame."""

    cam: np.ndarray  # int, camera index
    send: np.ndarray  # send time at the camera, s
    size: np.ndarray  # bytes


def window_frames(
    table: CameraTable,
    main_bps: np.ndarray,
    sub_bps: np.ndarray,
    t0: float,
    rng: np.random.Generator,
) -> Frames:
    """Every main- and sub-stream frame of every camera over the rates' seconds from t0
    (zero-size frames, from cameras that do not send, left out)."""
    cam_m, t_m, s_m = frame_schedule(main_bps, table.fps, GopPattern.of(table), t0, rng)
    sub_gop = GopPattern(  # IP-only, with the main stream's I/P ratio (assumption)
        np.maximum(np.round(table.sub_fps * SUB_GOP_S), 1).astype(np.int64),
        np.zeros(len(table), dtype=np.int64), table.i_to_p, table.b_to_p,
    )  # fmt: skip
    cam_s, t_s, s_s = frame_schedule(sub_bps, table.sub_fps, sub_gop, t0, rng)
    size = np.concatenate([s_m, s_s])
    keep = size > 0
    return Frames(
        np.concatenate([cam_m, cam_s])[keep], np.concatenate([t_m, t_s])[keep], size[keep]
    )


def simulate_window(
    table: CameraTable,
    main_bps: np.ndarray,
    sub_bps: np.ndarray,
    t0: float,
    access: Link,
    path: dict[int, NetworkLink | None],
    core: NetworkLink | None,
    rng: np.random.Generator,
) -> WindowResult:
    """Run the frame-level model over `main_bps.shape[1]` seconds starting at t0.

    main_bps/sub_bps: (cameras, seconds) rates already zero for cameras that do not send.
    path: each district's active link (None: unreachable); core: None when down.
    """
    f = window_frames(table, main_bps, sub_bps, t0, rng)
    cam, send, size0 = f.cam, f.send, f.size
    district = table.district[cam]
    span = main_bps.shape[1] + 2.0  # longer than the window: (camera, send time) as one key

    links: dict[str, LinkWindow] = {}
    acc_rate = access.capacity_mbps * 1e6 / 8
    acc_hop = _Hop(acc_rate, access.buffer_kb * 1024, access.latency_ms / 1e3)
    access_seen: list[tuple[float, float, np.ndarray]] = []
    to_core: list[tuple[np.ndarray, ...]] = []
    for d in np.unique(district):
        sel = np.flatnonzero(district == d)
        # by camera, then send time: a stable sort of one key, two runs (main, then sub)
        idx = sel[np.argsort(cam[sel] + (send[sel] - t0) / span, kind="stable")]
        q = frame_queue(send[idx], size0[idx], acc_rate, acc_hop.buffer, cam[idx])
        access_seen.append((float(size0[idx].sum()), float(q.accepted.sum()), q.wait_s))
        idx, start, size, rate = acc_hop.forward(idx, send[idx], q)
        link = path.get(int(d))
        if link is None:
            continue
        hop = _Hop(link.capacity_Bps, link.buffer_B, link.spec.latency_ms / 1e3)
        q = spread_queue(start, size, rate, hop.capacity, hop.buffer)
        links[link.name] = LinkWindow(float(size.sum()), float((size - q.accepted).sum()), q.wait_s)
        to_core.append(hop.forward(idx, start, q))
    offered = sum(o for o, _, _ in access_seen)
    accepted = sum(a for _, a, _ in access_seen)
    waits = np.concatenate([w for _, _, w in access_seen]) if access_seen else np.zeros(0)
    links["access"] = LinkWindow(offered, offered - accepted, waits)
    if core is None:
        return WindowResult(links, int(cam.size), np.zeros(0))

    empty = (np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0), np.zeros(0))
    idx, start, size, rate = (np.concatenate(p) for p in zip(empty, *to_core, strict=True))
    del to_core, district  # the core's queue is the window's largest: hold each frame once
    hop = _Hop(core.capacity_Bps, core.buffer_B, core.spec.latency_ms / 1e3)
    q = spread_queue(start, size, rate, hop.capacity, hop.buffer)
    links[core.name] = LinkWindow(float(size.sum()), float((size - q.accepted).sum()), q.wait_s)
    arrival = q.done_s + hop.latency
    whole = np.isclose(q.accepted, size0[idx], rtol=1e-9, atol=1e-6)
    return WindowResult(links, int(cam.size), arrival[whole] - send[idx][whole])


@dataclass(frozen=True)
class _Hop:
    """A link's figures, and how a frame leaves it for the next switch."""

    capacity: float  # bytes/s
    buffer: float  # bytes
    latency: float  # s

    def forward(
        self, idx: np.ndarray, arrival: np.ndarray, q: FrameQueue
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Frames with bytes left: when their first packet reaches the next switch, their
        size, and the rate their bytes arrive at there (spread as they left this link)."""
        kept = q.accepted > 0
        size = q.accepted[kept]
        first = arrival[kept] + q.wait_s[kept] + np.minimum(size, MTU) / self.capacity
        last = np.maximum(q.done_s[kept], first)
        rate = size / np.maximum(last - first, size / 1e15)  # one packet: a burst
        return idx[kept], first + self.latency, size, rate
