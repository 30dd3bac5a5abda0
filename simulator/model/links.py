"""Links: the network's FIFO queues with finite buffers, computed without a per-event loop.

A drop-tail buffer of B bytes served at C bytes/s evolves, arrival after arrival, as
    w' = clamp(w + x, lo, hi)
for step-dependent x, lo, hi. Clamps compose into clamps, so the whole run is a prefix scan
of compositions (log2 n vectorised passes). Without overflow, the familiar Lindley form
(cumulative sum minus its running minimum) gives the same answer in one pass, so it runs
first and the scan only where a buffer overflowed. Losses are fluid: the part of a burst
that does not fit is dropped, as packet-level drop-tail does to within one packet.

Frames reach a camera's own link as bursts (`frame_queue`); further links receive them spread
out at the previous link's rate, packet after packet (`spread_queue`), as store-and-forward
switches pass them on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.scenario.schema import Link, Scenario
from simulator.timeline.event import LinkId

MTU = 1500.0  # bytes: a switch forwards a packet once it has received all of it


@dataclass(frozen=True)
class NetworkLink:
    """A link of the shared network (district uplink or backup, or the core)."""

    name: str
    kind: str  # "uplink" | "backup" | "core"
    district: int  # index into scenario.network.districts; -1 for the core
    spec: Link

    @property
    def id(self) -> LinkId:
        return LinkId.parse(self.name)

    @property
    def capacity_Bps(self) -> float:  # noqa: N802 - bytes per second
        return self.spec.capacity_mbps * 1e6 / 8

    @property
    def buffer_B(self) -> float:  # noqa: N802 - bytes
        return self.spec.buffer_kb * 1024


def network_links(scenario: Scenario) -> list[NetworkLink]:
    """The shared links in a fixed order: each district's uplink (and backup), then the core."""
    links = []
    for i, d in enumerate(scenario.network.districts):
        links.append(NetworkLink(str(LinkId("uplink", d.name)), "uplink", i, d.uplink))
        if d.backup is not None:
            links.append(NetworkLink(str(LinkId("backup", d.name)), "backup", i, d.backup))
    links.append(NetworkLink(str(LinkId("core")), "core", -1, scenario.network.core))
    return links


def clamp_scan(x: np.ndarray, lo: np.ndarray, hi: np.ndarray, w0: float = 0.0) -> np.ndarray:
    """w[k] = clamp(w[k-1] + x[k], lo[k], hi[k]) from w[-1] = w0, for all k at once."""
    c = np.asarray(x, dtype=np.float64).copy()
    lo = np.broadcast_to(np.asarray(lo, dtype=np.float64), c.shape).copy()
    hi = np.maximum(np.broadcast_to(np.asarray(hi, dtype=np.float64), c.shape), lo)
    d = 1
    while d < c.size:
        # compose step k-d's prefix map with step k's (Hillis-Steele inclusive scan)
        new_lo = np.clip(lo[:-d] + c[d:], lo[d:], hi[d:])
        new_hi = np.clip(hi[:-d] + c[d:], lo[d:], hi[d:])
        c[d:] += c[:-d].copy()
        lo[d:], hi[d:] = new_lo, new_hi
        d *= 2
    return np.clip(w0 + c, lo, hi)


def lindley(x: np.ndarray, w0: float = 0.0) -> np.ndarray:
    """w[k] = max(0, w[k-1] + x[k]) from w0: the queue with an infinite buffer."""
    s = np.cumsum(x, dtype=np.float64)
    low = np.minimum.accumulate(s)
    np.minimum(low, -w0, out=low)
    return np.subtract(s, low, out=s)


def fluid_queue(
    offered: np.ndarray, capacity: float, buffer: float, w0: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Backlog and loss per step of a fluid queue offered `offered` bytes per step.

    `capacity` is bytes served per step. Returns (backlog at the end of each step, bytes lost
    in each step).
    """
    x = offered - capacity
    w = lindley(x, w0)
    if w.size == 0 or w.max() <= buffer:
        return w, np.zeros_like(w)
    w = clamp_scan(x, 0.0, buffer, w0)
    before = np.concatenate([[w0], w[:-1]])
    return w, np.maximum(before + x - buffer, 0.0)


def fluid_queues(
    offered: np.ndarray, capacity: np.ndarray, buffer: np.ndarray, w0: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """fluid_queue for independent queues at once, one per row of `offered` (capacity, buffer
    and initial backlog one per row): the same figures as row by row, fewer passes."""
    x = offered - np.asarray(capacity, dtype=offered.dtype)[:, None]
    s = np.cumsum(x, axis=1, dtype=np.float64)
    low = np.minimum.accumulate(s, axis=1)
    np.minimum(low, -np.asarray(w0, dtype=np.float64)[:, None], out=low)
    w = np.subtract(s, low, out=s)
    lost = np.zeros_like(w)
    if w.shape[1]:
        for i in np.flatnonzero(w.max(axis=1) > buffer):  # a buffer overflowed: clamp
            w[i], lost[i] = fluid_queue(offered[i], float(capacity[i]), float(buffer[i]), w0[i])
    return w, lost


@dataclass
class FrameQueue:
    """Per-frame outcome at one link: backlog met on arrival, bytes accepted."""

    wait_s: np.ndarray  # queueing delay before the frame's first byte is sent
    accepted: np.ndarray  # bytes that fitted in the buffer
    done_s: np.ndarray  # time its last accepted byte has left


def frame_queue(
    time: np.ndarray,
    size: np.ndarray,
    capacity_Bps: float | np.ndarray,  # noqa: N803
    buffer_B: float | np.ndarray,  # noqa: N803
    segment: np.ndarray | None = None,
) -> FrameQueue:
    """A drop-tail FIFO fed frames at `time` (sorted within each segment) of `size` bytes.

    `segment` (same length, grouped) marks independent queues computed in one pass: the
    backlog resets where the segment changes. Capacity and buffer may differ per frame
    (constant within a segment).
    """
    if time.size == 0:
        empty = np.zeros(0)
        return FrameQueue(empty, empty, empty)
    capacity_Bps = np.broadcast_to(np.asarray(capacity_Bps, dtype=np.float64), time.shape)
    buffer_B = np.broadcast_to(np.asarray(buffer_B, dtype=np.float64), time.shape)
    drained = np.diff(time, append=time[-1]) * capacity_Bps
    hi = buffer_B - drained
    if segment is not None:
        # Where a segment ends, drain more than it ever held: its queue restarts empty.
        end = np.append(segment[1:] != segment[:-1], True)
        seg_id = np.cumsum(np.concatenate([[0], end[:-1]]))
        drained[end] = np.bincount(seg_id, weights=size) + buffer_B[end] + 1.0
        hi[end] = 0.0
    # w_next[k]: backlog just before frame k+1, after frame k was admitted and drained
    x = size - drained
    w_next = lindley(x)
    before = np.concatenate([[0.0], w_next[:-1]])
    if np.any(before + size > buffer_B):
        w_next = clamp_scan(x, 0.0, hi)
        before = np.concatenate([[0.0], w_next[:-1]])
    accepted = np.clip(buffer_B - before, 0.0, size)
    wait = before / capacity_Bps
    return FrameQueue(wait, accepted, time + wait + accepted / capacity_Bps)


def spread_queue(
    start: np.ndarray,
    size: np.ndarray,
    rate: np.ndarray,
    capacity_Bps: float | np.ndarray,  # noqa: N803
    buffer_B: float | np.ndarray,  # noqa: N803
    segment: np.ndarray | None = None,
) -> FrameQueue:
    """A drop-tail fluid FIFO fed frames whose bytes arrive at `rate` from `start` on.

    Exact for fluid input: the input rate is piecewise constant between the frames' first and
    last bytes, so the backlog is a clamp scan over those 2n events. What overflows while
    several frames arrive is taken from each in proportion to its rate. `segment` marks
    independent queues, as in frame_queue; capacity and buffer are scalars or per frame.
    """
    n = start.size
    if n == 0:
        empty = np.zeros(0)
        return FrameQueue(empty, empty, empty)

    last_in = start + size / rate  # when a frame's last byte has arrived
    t = np.concatenate([start, last_in])
    if segment is None:
        order = np.argsort(t, kind="stable")
    else:
        order = np.lexsort((t, np.concatenate([segment, segment])))

    t = t[order]
    inflow = np.concatenate([rate, -rate])[order]
    np.cumsum(inflow, out=inflow)  # input rate after each event
    np.maximum(inflow, 0.0, out=inflow)
    cap, buf = _by_event(capacity_Bps, order), _by_event(buffer_B, order)
    x = np.empty_like(t)  # np.diff(t, append=t[-1]) without copying t
    np.subtract(t[1:], t[:-1], out=x[:-1])
    x[-1] = 0.0
    x *= inflow - cap
    end = np.zeros(2 * n, dtype=bool)
    end[-1] = True
    if segment is not None:
        seg = _by_event(segment, order)
        end[:-1] = seg[1:] != seg[:-1]
        # A segment's last event empties its queue for the next: drain more than it held.
        x[end] = -(
            np.bincount(segment, weights=size)[seg[end]] + np.broadcast_to(buf, t.shape)[end] + 1
        )
        del seg
    w = lindley(x)
    before = np.concatenate([[0.0], w[:-1]])
    del w
    overflow = bool(np.any(before + x > buf))
    if overflow:
        hi = np.where(end, 0.0, buf)
        before = np.concatenate([[0.0], clamp_scan(x, 0.0, hi)[:-1]])
        accepted = _accepted(before, x, hi, end, inflow, order, size, rate)
    else:  # nothing lost: every byte accepted
        accepted = size.copy()
    del x, inflow
    # FIFO: a byte leaves once the backlog it found has gone, so the last byte leaves at
    # end + backlog(end) / capacity. Computed in event order, then put back per frame.
    per_frame = np.empty(2 * n)
    per_frame[order] = np.divide(before, cap, out=before)
    per_frame[n:] += last_in
    return FrameQueue(per_frame[:n], accepted, per_frame[n:])


def _accepted(
    before: np.ndarray,
    x: np.ndarray,
    hi: np.ndarray,
    end: np.ndarray,
    inflow: np.ndarray,
    order: np.ndarray,
    size: np.ndarray,
    rate: np.ndarray,
) -> np.ndarray:
    """Bytes of each frame accepted by spread_queue's buffer when it overflowed: what did not
    fit while several frames arrived is taken from each in proportion to its rate."""
    n = size.size
    lost = np.maximum(before + x - hi, 0.0)
    lost[end] = 0.0
    per_rate = np.divide(lost, inflow, out=lost, where=inflow > 0)
    per_rate[inflow <= 0] = 0.0
    cum = np.concatenate([[0.0], np.cumsum(per_rate)])
    where = np.empty(2 * n, dtype=np.int64)
    where[order] = np.arange(2 * n)
    first, last = where[:n], where[n:]
    return np.clip(size - rate * (cum[last] - cum[first]), 0.0, size)


def _by_event(per_frame: float | np.ndarray, order: np.ndarray) -> float | np.ndarray:
    """A per-frame figure at each of the 2n events, in event order (scalars stay scalars)."""
    if np.ndim(per_frame) == 0:
        return float(per_frame)
    return np.concatenate([per_frame, per_frame])[order]
