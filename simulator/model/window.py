"""The frame-level window: every frame of every camera through access, district and core links.

Frames are store-and-forward units: a frame reaches the next switch when its last accepted
byte has crossed the link, plus the link's propagation latency. Each link is a drop-tail FIFO
(links.frame_queue); what a full buffer drops does not travel further.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.model.cameras import CameraTable
from simulator.model.links import NetworkLink, frame_queue
from simulator.model.traffic import SUB_GOP_S, frame_schedule
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
    cam_m, t_m, s_m = frame_schedule(main_bps, table.fps, table.gop, t0, rng)
    sub_gop = np.maximum(np.round(table.sub_fps * SUB_GOP_S), 1).astype(np.int64)
    cam_s, t_s, s_s = frame_schedule(sub_bps, table.sub_fps, sub_gop, t0, rng)
    cam = np.concatenate([cam_m, cam_s])
    send = np.concatenate([t_m, t_s])
    size0 = np.concatenate([s_m, s_s])
    keep = size0 > 0
    cam, send, size0 = cam[keep], send[keep], size0[keep]

    links: dict[str, LinkWindow] = {}
    # Hop 1: each camera's own access link.
    idx = np.lexsort((send, cam))
    time, size = _hop(
        links,
        "access",
        idx,
        send[idx],
        size0[idx],
        cam[idx],
        np.full(idx.size, access.capacity_mbps * 1e6 / 8),
        np.full(idx.size, access.buffer_kb * 1024),
        np.full(idx.size, access.latency_ms / 1e3),
    )
    # Hop 2: the active link of each district; frames of unreachable districts go no further.
    district = table.district[cam[idx]]
    active = {d: lk for d, lk in path.items() if lk is not None}
    reach = np.isin(district, list(active))
    idx, time, size, district = idx[reach], time[reach], size[reach], district[reach]
    order = np.lexsort((time, district))
    idx, time, size, district = idx[order], time[order], size[order], district[order]
    spec = np.zeros((max(active, default=-1) + 1, 3))
    for d, lk in active.items():
        spec[d] = lk.capacity_Bps, lk.buffer_B, lk.spec.latency_ms / 1e3
    names = {d: lk.name for d, lk in active.items()}
    time, size = _hop(
        links,
        names,
        idx,
        time,
        size,
        district,
        spec[district, 0],
        spec[district, 1],
        spec[district, 2],
    )
    if core is None:
        return WindowResult(links, int(cam.size), np.zeros(0))
    # Hop 3: the core link, all districts merged.
    order = np.argsort(time, kind="stable")
    idx, time, size = idx[order], time[order], size[order]
    n = idx.size
    time, size = _hop(
        links,
        core.name,
        idx,
        time,
        size,
        None,
        np.full(n, core.capacity_Bps),
        np.full(n, core.buffer_B),
        np.full(n, core.spec.latency_ms / 1e3),
    )
    whole = np.isclose(size, size0[idx], rtol=1e-9, atol=1e-6)
    return WindowResult(links, int(cam.size), time[whole] - send[idx][whole])


def _hop(
    links: dict[str, LinkWindow],
    name: str | dict[int, str],
    idx: np.ndarray,
    time: np.ndarray,
    size: np.ndarray,
    segment: np.ndarray | None,
    capacity: np.ndarray,
    buffer: np.ndarray,
    latency: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Pass frames through one queue per segment; record each link's window; forward."""
    q = frame_queue(time, size, capacity, buffer, segment)
    lost = size - q.accepted
    if isinstance(name, str):
        links[name] = LinkWindow(float(size.sum()), float(lost.sum()), q.wait_s)
    else:
        for seg, link_name in name.items():
            on = segment == seg
            links[link_name] = LinkWindow(
                float(size[on].sum()), float(lost[on].sum()), q.wait_s[on]
            )
    return q.done_s + latency, q.accepted
