"""Link queues: M/M/1 and M/D/1 waits, and the vectorised scans against plain loops.

Tolerances:
- M/M/1, M/D/1 mean wait: 1,000,000 Poisson arrivals, relative 5 %. Over 30 seeds the
  relative error of the sample mean had a standard deviation of 0.6 % (ρ = 0.5) and 1.2 %
  (ρ = 0.8, exponential sizes), so 5 % is ≥ 4 standard deviations; the seeds are fixed.
- M/M/1 P(no wait) = 1 − ρ within 0.005 absolute; p99 wait ln(100ρ)/(μ−λ) within 5 %.
- clamp_scan / frame_queue / fluid_queue against loops: float round-off only (relative
  1e-9 of the largest magnitude involved).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from simulator.model.links import clamp_scan, fluid_queue, frame_queue, lindley

N_ARRIVALS = 1_000_000
LAMBDA = 100.0  # frames per second
MEAN_SIZE = 1000.0  # bytes


def poisson_queue(rho: float, sizes: str, seed: int):
    rng = np.random.default_rng(seed)
    mu = LAMBDA / rho
    time = np.cumsum(rng.exponential(1 / LAMBDA, N_ARRIVALS))
    if sizes == "exponential":
        size = rng.exponential(MEAN_SIZE, N_ARRIVALS)
    else:
        size = np.full(N_ARRIVALS, MEAN_SIZE)
    q = frame_queue(time, size, mu * MEAN_SIZE, 1e18)  # a buffer that never fills
    assert np.all(q.accepted == size)
    return mu, time, q


@pytest.mark.parametrize("rho", [0.5, 0.8])
def test_frame_queue_matches_mm1(rho):
    mu, _, q = poisson_queue(rho, "exponential", seed=101)
    wq = rho / (mu - LAMBDA)
    assert q.wait_s.mean() == pytest.approx(wq, rel=0.05)
    assert np.mean(q.wait_s == 0) == pytest.approx(1 - rho, abs=0.005)
    # P(Wq > t) = ρ exp(−(μ−λ) t)
    assert np.percentile(q.wait_s, 99) == pytest.approx(
        math.log(100 * rho) / (mu - LAMBDA), rel=0.05
    )


@pytest.mark.parametrize("rho", [0.5, 0.8])
def test_frame_queue_matches_md1(rho):
    mu, time, q = poisson_queue(rho, "deterministic", seed=202)
    wq = rho / (2 * mu * (1 - rho))  # Pollaczek-Khinchine
    assert q.wait_s.mean() == pytest.approx(wq, rel=0.05)
    # store-and-forward: a frame leaves after its wait plus its own transmission time 1/μ
    np.testing.assert_allclose(q.done_s - time - q.wait_s, 1 / mu, rtol=1e-6)


# Reference loops --------------------------------------------------------------------------------


def clamp_loop(x, lo, hi, w0):
    w, out = w0, []
    for xk, lk, hk in zip(x, lo, hi, strict=True):
        w = min(max(w + xk, lk), max(hk, lk))
        out.append(w)
    return np.array(out)


def frame_loop(time, size, capacity, buffer, segment):
    """Drop-tail FIFO, frame by frame: the backlog drains between arrivals; overflow is lost."""
    n = len(time)
    wait, accepted, done = np.zeros(n), np.zeros(n), np.zeros(n)
    backlog, prev_t, prev_seg = 0.0, None, None
    for k in range(n):
        if segment[k] != prev_seg:
            backlog, prev_t, prev_seg = 0.0, time[k], segment[k]
        backlog = max(0.0, backlog - (time[k] - prev_t) * capacity[k])
        prev_t = time[k]
        take = min(size[k], max(0.0, buffer[k] - backlog))
        wait[k] = backlog / capacity[k]
        accepted[k] = take
        done[k] = time[k] + wait[k] + take / capacity[k]
        backlog += take
    return wait, accepted, done


def fluid_loop(offered, capacity, buffer, w0):
    w, ws, lost = w0, [], []
    for o in offered:
        v = w + o - capacity
        lost.append(max(v - buffer, 0.0))
        w = min(max(v, 0.0), buffer)
        ws.append(w)
    return np.array(ws), np.array(lost)


finite = st.floats(min_value=-1e3, max_value=1e3, allow_nan=False, allow_infinity=False)
sizes = st.integers(min_value=1, max_value=300)


@st.composite
def clamp_inputs(draw):
    n = draw(sizes)
    x = draw(arrays(np.float64, n, elements=finite))
    a = draw(arrays(np.float64, n, elements=finite))
    b = draw(arrays(np.float64, n, elements=finite))
    return x, np.minimum(a, b), np.maximum(a, b), draw(finite)


@settings(max_examples=150, deadline=None)
@given(clamp_inputs())
def test_clamp_scan_equals_a_loop(inputs):
    x, lo, hi, w0 = inputs
    scale = max(1.0, np.abs(x).sum(), abs(w0), np.abs(lo).max(), np.abs(hi).max())
    np.testing.assert_allclose(
        clamp_scan(x, lo, hi, w0), clamp_loop(x, lo, hi, w0), rtol=0, atol=1e-9 * scale
    )


@settings(max_examples=100, deadline=None)
@given(st.lists(finite, min_size=1, max_size=300), st.floats(0, 1e3))
def test_lindley_is_the_clamp_with_no_ceiling(x, w0):
    x = np.array(x)
    scale = max(1.0, np.abs(x).sum(), w0)
    np.testing.assert_allclose(
        lindley(x, w0), clamp_loop(x, np.zeros_like(x), np.full_like(x, np.inf), w0),
        rtol=0, atol=1e-9 * scale,
    )  # fmt: skip


@st.composite
def frame_inputs(draw):
    """Frames in 1-4 segments, each with its own capacity and buffer; gaps may be zero."""
    segments = draw(st.integers(1, 4))
    time, size, cap, buf, seg = [], [], [], [], []
    for s in range(segments):
        n = draw(st.integers(1, 60))
        gaps = draw(st.lists(st.floats(0, 0.02), min_size=n, max_size=n))
        t = draw(st.floats(0, 10)) + np.cumsum(gaps)
        sz = draw(st.lists(st.floats(0, 20_000), min_size=n, max_size=n))
        c = draw(st.floats(1e4, 1e7))
        b = draw(st.floats(1e3, 1e5))
        time += list(t)
        size += sz
        cap += [c] * n
        buf += [b] * n
        seg += [s] * n
    return tuple(np.array(v, dtype=np.float64) for v in (time, size, cap, buf)) + (np.array(seg),)


@settings(max_examples=150, deadline=None)
@given(frame_inputs())
def test_frame_queue_with_finite_buffer_and_segments_equals_a_loop(inputs):
    time, size, cap, buf, seg = inputs
    q = frame_queue(time, size, cap, buf, seg)
    wait, accepted, done = frame_loop(time, size, cap, buf, seg)
    scale = max(1.0, size.sum() + buf.max())
    np.testing.assert_allclose(q.accepted, accepted, rtol=0, atol=1e-9 * scale)
    np.testing.assert_allclose(q.wait_s * cap, wait * cap, rtol=0, atol=1e-9 * scale)
    np.testing.assert_allclose(q.done_s, done, rtol=1e-12, atol=1e-9 * scale / cap.min())


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.floats(0, 1e6), min_size=1, max_size=300),
    st.floats(1, 1e6),
    st.floats(0, 1e6),
    st.floats(0, 1),
)
def test_fluid_queue_conserves_bytes_and_equals_a_loop(offered, capacity, buffer, w0_frac):
    offered = np.array(offered)
    w0 = w0_frac * buffer
    w, lost = fluid_queue(offered, capacity, buffer, w0)
    scale = max(1.0, offered.sum() + w0 + capacity)
    tol = 1e-9 * scale
    before = np.concatenate([[w0], w[:-1]])
    served = before + offered - lost - w  # bytes that left the queue in each step
    # offered = served + lost + backlog change, with service and backlog physically possible
    assert offered.sum() == pytest.approx(served.sum() + lost.sum() + (w[-1] - w0), abs=tol)
    assert np.all(served >= -tol) and np.all(served <= capacity + tol)
    assert np.all(lost >= 0) and np.all(w >= -tol) and np.all(w <= buffer + tol)
    # work-conserving: a step that ends with a backlog (or loses bytes) served at full rate
    busy = (w > tol) | (lost > tol)
    np.testing.assert_allclose(served[busy], capacity, rtol=0, atol=tol)
    # and it loses only when the buffer is full
    assert np.all(w[lost > tol] >= buffer - tol)
    w_ref, lost_ref = fluid_loop(offered, capacity, buffer, w0)
    np.testing.assert_allclose(w, w_ref, rtol=0, atol=tol)
    np.testing.assert_allclose(lost, lost_ref, rtol=0, atol=tol)
