"""The vectorised frame-level window agrees with a straightforward per-packet SimPy model.

Both models are fed identical frames (`window_frames` draws what `simulate_window` draws from
an identically seeded rng). Tolerances, and why:

* A camera's own link: both models see the same bursts (a whole frame handed over at once) in
  the same FIFO, so waits, losses and delays agree to floating-point rounding (rtol 1e-9).
* Further links: the packet model forwards 1500-byte packets as they are received; the fluid
  model lets a frame's bytes arrive at the rate they left the previous link, starting one
  packet after its first byte left. The two queues then differ by packet granularity only:
  waits by at most one packet's transmission time at that link (p99 and mean), end-to-end
  delays by at most one packet time at the slowest shared link.
* A buffer overflows: the packet buffer admits a packet only if it fits whole and counts the
  packet in transmission whole, so it holds between one and two packets less than the fluid
  buffer. The per-packet loss fraction and mean wait must lie between the fluid model with
  buffer B - 2 MTU and with buffer B (checked on 5 cases from sustained overload to a
  5-packet buffer, the bracket a few % wide); the p99 wait within that bracket widened by one
  packet time.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from simulator.model.links import NetworkLink
from simulator.model.perframe import MTU, SteadyCity, simulate_perframe, steady_city
from simulator.model.window import WindowResult, simulate_window, window_frames
from simulator.scenario import validate

EXACT = 1e-9


def small_city(cameras: int, uplink_mbps: float, buffer_kb: float, seconds: int) -> SteadyCity:
    """A few 4 Mbps VBR cameras (main + sub stream) in one district, all at target rate."""
    scenario = validate(
        {
            "name": "perframe-check",
            "cameras": [
                {"name": "cam", "count": cameras, "district": "d", "bitrate": {"target_mbps": 4}}
            ],
            "network": {
                "districts": [
                    {"name": "d", "uplink": {"capacity_mbps": uplink_mbps, "buffer_kb": buffer_kb}}
                ],
                "core": {"capacity_mbps": 1000, "buffer_kb": 1024},
            },
            "recording": {"servers": [{"name": "rec"}]},
        }
    )
    return steady_city(scenario, seconds)


def fluid(c: SteadyCity, seed: int, uplink_buffer_B: float | None = None) -> WindowResult:  # noqa: N803
    """The vectorised model, optionally with a different uplink buffer."""
    path = dict(c.path)
    if uplink_buffer_B is not None:
        lk = path[0]
        assert lk is not None
        spec = lk.spec.model_copy(update={"buffer_kb": uplink_buffer_B / 1024})
        path[0] = dataclasses.replace(lk, spec=spec)
    rng = np.random.default_rng(seed)
    return simulate_window(c.table, c.main_bps, c.sub_bps, 0.0, c.access, path, c.core, rng)


def packets(
    c: SteadyCity,
    seed: int,
    path: dict[int, NetworkLink | None] | None = None,
    core_up: bool = True,
) -> WindowResult:
    """The per-packet SimPy model on the frames `fluid(c, seed)` draws."""
    frames = window_frames(c.table, c.main_bps, c.sub_bps, 0.0, np.random.default_rng(seed))
    return simulate_perframe(
        c.table, frames, c.access, c.path if path is None else path, c.core if core_up else None
    )


def summary(r: WindowResult, name: str) -> tuple[float, float, float]:
    """(loss fraction, mean wait s, p99 wait s) of one link."""
    lk = r.links[name]
    loss = lk.lost_bytes / lk.offered_bytes if lk.offered_bytes else 0.0
    return loss, float(lk.waits_s.mean()), float(np.percentile(lk.waits_s, 99))


def assert_same_frames(a: WindowResult, b: WindowResult) -> None:
    """Guard: both models really were fed the same frames."""
    assert a.frames == b.frames > 0
    assert a.links["access"].offered_bytes == pytest.approx(b.links["access"].offered_bytes, EXACT)


def assert_exact(a: WindowResult, b: WindowResult, name: str) -> None:
    """Same offered/lost bytes and the same wait distribution, to rounding."""
    la, lb = a.links[name], b.links[name]
    assert la.offered_bytes == pytest.approx(lb.offered_bytes, rel=EXACT)
    assert la.lost_bytes == pytest.approx(lb.lost_bytes, rel=EXACT, abs=1e-6)
    assert la.waits_s.size == lb.waits_s.size
    assert np.sort(la.waits_s) == pytest.approx(np.sort(lb.waits_s), rel=EXACT, abs=1e-12)


def assert_within(a: WindowResult, b: WindowResult, name: str, packet_s: float) -> None:
    """Same bytes, no loss, mean and p99 wait within one packet time."""
    la, lb = a.links[name], b.links[name]
    assert la.offered_bytes == pytest.approx(lb.offered_bytes, rel=EXACT)
    assert la.lost_bytes == lb.lost_bytes == 0
    assert la.waits_s.size == lb.waits_s.size
    assert abs(la.waits_s.mean() - lb.waits_s.mean()) <= packet_s
    assert abs(np.percentile(la.waits_s, 99) - np.percentile(lb.waits_s, 99)) <= packet_s


def test_no_overflow_agrees() -> None:
    c = small_city(cameras=5, uplink_mbps=100, buffer_kb=4096, seconds=20)
    a, b = fluid(c, seed=1), packets(c, seed=1)
    assert_same_frames(a, b)
    assert set(a.links) == set(b.links) == {"access", "uplink:d", "core"}
    assert_exact(a, b, "access")
    uplink_packet_s = MTU / (100e6 / 8)
    assert_within(a, b, "uplink:d", uplink_packet_s)
    assert_within(a, b, "core", MTU / (1000e6 / 8))
    assert a.links["uplink:d"].waits_s.max() > 1e-3  # the case does queue (I-frame bursts)
    assert a.end_to_end_s.size == b.end_to_end_s.size == a.frames
    for q in (50, 99):
        e2e_a, e2e_b = np.percentile(a.end_to_end_s, q), np.percentile(b.end_to_end_s, q)
        assert abs(e2e_a - e2e_b) <= uplink_packet_s


def test_unreachable_district_and_core_down_agree() -> None:
    c = small_city(cameras=3, uplink_mbps=1000, buffer_kb=4096, seconds=10)
    rng = np.random.default_rng(2)
    a = simulate_window(c.table, c.main_bps, c.sub_bps, 0.0, c.access, c.path, None, rng)
    b = packets(c, seed=2, core_up=False)
    assert_same_frames(a, b)
    assert set(a.links) == set(b.links) == {"access", "uplink:d"}
    assert a.end_to_end_s.size == b.end_to_end_s.size == 0
    assert_exact(a, b, "access")
    assert_within(a, b, "uplink:d", MTU / (1000e6 / 8))

    rng = np.random.default_rng(2)
    a = simulate_window(c.table, c.main_bps, c.sub_bps, 0.0, c.access, {0: None}, c.core, rng)
    b = packets(c, seed=2, path={0: None})
    assert set(a.links) == {"access", "core"} and set(b.links) == {"access", "core"}
    assert_exact(a, b, "access")
    assert a.links["core"].offered_bytes == b.links["core"].offered_bytes == 0


@pytest.mark.parametrize(
    ("cameras", "uplink_mbps", "buffer_kb", "seed"),
    [
        (8, 30, 256, 0),  # sustained overload (~35 Mbps offered): the buffer stays full
        (8, 37, 32, 1),  # intermittent overflow of a small buffer: I-frame bursts
        (6, 30, 8, 2),  # tiny buffer (5 packets): packet granularity matters most
        (20, 100, 64, 3),  # many cameras, mild loss
    ],
)
def test_overflowing_uplink_agrees_within_packet_granularity(
    cameras: int, uplink_mbps: float, buffer_kb: float, seed: int
) -> None:
    c = small_city(cameras, uplink_mbps, buffer_kb, seconds=30)
    big = fluid(c, seed)  # fluid buffer B
    small = fluid(c, seed, uplink_buffer_B=buffer_kb * 1024 - 2 * MTU)  # fluid buffer B - 2 MTU
    pkt = packets(c, seed)
    assert_same_frames(big, pkt)
    assert_exact(big, pkt, "access")  # upstream of the overflow: identical

    name = "uplink:d"
    loss_big, mean_big, p99_big = summary(big, name)
    loss_small, mean_small, p99_small = summary(small, name)
    loss, mean, p99 = summary(pkt, name)
    assert loss_big > 0.01  # the case does overflow
    one_packet_s = MTU / (uplink_mbps * 1e6 / 8)
    slack = 1e-9
    assert loss_big - slack <= loss <= loss_small + slack
    assert mean_small - slack <= mean <= mean_big + slack
    assert p99_small - one_packet_s <= p99 <= p99_big + one_packet_s

    core_packet_s = MTU / (1000e6 / 8)
    loss_core, mean_core, p99_core = summary(pkt, "core")
    assert loss_core == summary(big, "core")[0] == 0
    assert abs(mean_core - summary(big, "core")[1]) <= core_packet_s
    assert abs(p99_core - summary(big, "core")[2]) <= core_packet_s
    for q in (50, 99):
        e2e_pkt = np.percentile(pkt.end_to_end_s, q)
        e2e_big = np.percentile(big.end_to_end_s, q)
        assert abs(e2e_pkt - e2e_big) <= one_packet_s
