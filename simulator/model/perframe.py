"""A straightforward per-frame discrete-event implementation, for validation and as the
benchmark's baseline.

Same network as `window.simulate_window` (each camera's access link → its district's active
link → the core), modelled the obvious way with SimPy: every frame is cut into packets of at
most `MTU` bytes; every link is a process serving a FIFO of packets one at a time at its
capacity, behind a drop-tail buffer counted in bytes (a packet is dropped if the bytes queued
or in transmission plus its own would exceed the buffer). Switches store and forward packets:
each packet reaches the next link once it has been sent, plus the link's latency. A camera
hands a whole frame to its own link at once. A frame with no surviving packet goes no further.

It is slow by design (one SimPy event per packet per hop); it is the reference the vectorised
fluid model is checked against, not a sizing tool.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np
import simpy

from simulator.model.cameras import CameraTable, camera_table
from simulator.model.links import NetworkLink, network_links
from simulator.model.seeds import SeedTree
from simulator.model.window import Frames, LinkWindow, WindowResult, window_frames
from simulator.scenario.schema import Link, Scenario

MTU = 1500.0  # bytes per packet at most


@dataclass
class _Frame:
    """One frame at one hop."""

    id: int
    arrival: float  # when its first packet reached this hop
    accepted: int = 0  # packets admitted to the buffer
    sent: int = 0  # accepted packets whose transmission has finished
    sent_bytes: float = 0.0
    closed: bool = False  # its last packet has reached this hop
    waited: bool = False  # its first accepted packet has started transmission


@dataclass
class _Stats:
    """What one link (or the pooled access links) observed."""

    offered: float = 0.0
    lost: float = 0.0
    waits: list[float] = field(default_factory=list)


class PacketLink:
    """A link: a drop-tail byte buffer in front of a FIFO served at `capacity_Bps`."""

    def __init__(
        self,
        env: simpy.Environment,
        capacity_Bps: float,  # noqa: N803
        buffer_B: float,  # noqa: N803
        latency_s: float,
        stats: _Stats,
        forward: PacketLink | None,
        on_done: object,
    ) -> None:
        self.env = env
        self.capacity = capacity_Bps
        self.buffer = buffer_B
        self.latency = latency_s
        self.stats = stats
        self.forward = forward  # next hop, or None: `on_done(frame_id, time, bytes)` is called
        self.on_done = on_done
        self.occupancy = 0.0  # bytes of packets queued or being transmitted
        self.queue: deque[tuple[_Frame, float]] = deque()
        self.frames: dict[int, _Frame] = {}  # frames with packets still to come or to send
        self._wake: simpy.Event | None = None
        env.process(self._serve())

    def offer(self, frame_id: int, packets: list[float]) -> None:
        """A whole frame arrives at once (from the camera)."""
        for i, p in enumerate(packets):
            self.arrive(frame_id, p, i == len(packets) - 1)

    def arrive(self, frame_id: int, size: float, last: bool) -> None:
        """A packet arrives (size 0: only the news that the frame has ended upstream)."""
        frame = self.frames.get(frame_id)
        if frame is None:
            frame = self.frames[frame_id] = _Frame(frame_id, self.env.now)
        if size > 0:
            self.stats.offered += size
            if self.occupancy + size <= self.buffer:
                self.occupancy += size
                frame.accepted += 1
                self.queue.append((frame, size))
                if self._wake is not None and not self._wake.triggered:
                    self._wake.succeed()
            else:
                self.stats.lost += size
        if last:
            frame.closed = True
            if frame.sent == frame.accepted:  # nothing of it left to send here
                del self.frames[frame_id]
                if frame.accepted:
                    self.env.process(self._deliver(frame, 0.0, True))

    def _serve(self):  # noqa: ANN202 - SimPy process
        """Send queued packets one after another; each goes on to the next hop when sent."""
        while True:
            if not self.queue:
                self._wake = self.env.event()
                yield self._wake
                continue
            frame, p = self.queue.popleft()
            if not frame.waited:
                frame.waited = True
                self.stats.waits.append(self.env.now - frame.arrival)
            yield self.env.timeout(p / self.capacity)
            self.occupancy -= p
            frame.sent += 1
            frame.sent_bytes += p
            last = frame.closed and frame.sent == frame.accepted
            if last:
                del self.frames[frame.id]
            self.env.process(self._deliver(frame, p, last))

    def _deliver(self, frame: _Frame, size: float, last: bool):  # noqa: ANN202 - SimPy process
        """A packet crosses the link's propagation latency, then arrives at the next hop."""
        yield self.env.timeout(self.latency)
        if self.forward is not None:
            self.forward.arrive(frame.id, size, last)
        elif last:
            self.on_done(frame.id, self.env.now, frame.sent_bytes)


def packetize(size: float, mtu: float = MTU) -> list[float]:
    """A frame of `size` bytes as packets of `mtu` bytes and one remainder."""
    if size <= mtu:
        return [size]
    full, rest = divmod(size, mtu)
    return [mtu] * int(full) + ([rest] if rest > 0 else [])


def simulate_perframe(
    table: CameraTable,
    frames: Frames,
    access: Link,
    path: dict[int, NetworkLink | None],
    core: NetworkLink | None,
    mtu: float = MTU,
) -> WindowResult:
    """Run the frames through the network packet by packet; same contract as simulate_window.

    path: each district's active link (None: unreachable); core: None when down.
    mtu=math.inf makes every frame one packet (one event per frame per hop: faster, same
    delays while no buffer overflows, but a full buffer then drops whole frames).
    """
    keep = frames.size > 0
    cam, send, size = frames.cam[keep], frames.send[keep], frames.size[keep]
    env = simpy.Environment(initial_time=float(send.min()) if send.size else 0.0)
    done_time: dict[int, float] = {}
    done_bytes: dict[int, float] = {}

    def arrived(frame_id: int, time: float, nbytes: float) -> None:
        done_time[frame_id], done_bytes[frame_id] = time, nbytes

    stats: dict[str, _Stats] = {"access": _Stats()}
    core_link = None
    if core is not None:
        stats[core.name] = _Stats()
        core_link = PacketLink(
            env,
            core.capacity_Bps,
            core.buffer_B,
            core.spec.latency_ms / 1e3,
            stats[core.name],
            None,
            arrived,
        )
    district_link: dict[int, PacketLink] = {}
    for d, lk in path.items():
        if lk is None:
            continue
        stats[lk.name] = _Stats()
        district_link[d] = PacketLink(
            env,
            lk.capacity_Bps,
            lk.buffer_B,
            lk.spec.latency_ms / 1e3,
            stats[lk.name],
            core_link,
            lambda *_: None,  # core down: frames reach the core switch and stop there
        )

    def camera(c: int, ids: np.ndarray):  # noqa: ANN202 - SimPy process
        """A camera with its own access link, emitting its frames at their send times."""
        nxt = district_link.get(int(table.district[c]))
        link = PacketLink(
            env,
            access.capacity_mbps * 1e6 / 8,
            access.buffer_kb * 1024,
            access.latency_ms / 1e3,
            stats["access"],
            nxt,
            lambda *_: None,  # district unreachable: frames stop at the access switch
        )
        for i in ids:
            yield env.timeout(send[i] - env.now)
            link.offer(int(i), packetize(float(size[i]), mtu))

    order = np.lexsort((send, cam))
    for c, ids in _groups(cam[order], order):
        env.process(camera(c, ids))
    env.run()

    links = {
        name: LinkWindow(s.offered, s.lost, np.asarray(s.waits, dtype=np.float64))
        for name, s in stats.items()
    }
    whole = [
        i for i in sorted(done_time) if np.isclose(done_bytes[i], size[i], rtol=1e-9, atol=1e-6)
    ]
    e2e = np.array([done_time[i] - send[i] for i in whole], dtype=np.float64)
    return WindowResult(links, int(cam.size), e2e)


def _groups(keys: np.ndarray, values: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """Split `values` into runs of equal `keys` (keys already grouped)."""
    if keys.size == 0:
        return []
    cut = np.flatnonzero(keys[1:] != keys[:-1]) + 1
    return [(int(k[0]), v) for k, v in zip(np.split(keys, cut), np.split(values, cut), strict=True)]


@dataclass
class SteadyCity:
    """A whole city set up for a short frame-level run: who sends what over which links."""

    table: CameraTable
    main_bps: np.ndarray  # (cameras, seconds)
    sub_bps: np.ndarray
    access: Link
    path: dict[int, NetworkLink | None]
    core: NetworkLink | None


def steady_city(scenario: Scenario, seconds: int) -> SteadyCity:
    """Every camera sending its target main and sub rates for `seconds`, all links up."""
    table = camera_table(scenario)
    links = network_links(scenario)
    path: dict[int, NetworkLink | None] = {lk.district: lk for lk in links if lk.kind == "uplink"}
    main = np.repeat((table.main_mbps * 1e6)[:, None], seconds, axis=1)
    sub = np.repeat((table.sub_mbps * 1e6)[:, None], seconds, axis=1)
    return SteadyCity(table, main, sub, scenario.network.access, path, links[-1])


def simulate_city(scenario: Scenario, seconds: int) -> WindowResult:
    """The per-frame model over a whole city for `seconds` at constant target rates, its
    frames drawn from the seed tree's `window` child."""
    c = steady_city(scenario, seconds)
    rng = SeedTree(scenario.simulation.seed).generator("window")
    frames = window_frames(c.table, c.main_bps, c.sub_bps, 0.0, rng)
    return simulate_perframe(c.table, frames, c.access, c.path, c.core)
