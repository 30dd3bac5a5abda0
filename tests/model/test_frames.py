"""Frames within a second: the GOP pattern's frame types, and every second's bytes kept."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.model.seeds import SeedTree
from simulator.model.traffic import FRAME_COV, GopPattern, frame_schedule


def _pattern(length: int, b_frames: int, cams: int = 1) -> GopPattern:
    def each(v: float, dtype: type = float) -> np.ndarray:
        return np.full(cams, v, dtype=dtype)

    return GopPattern(each(length, int), each(b_frames, int), each(1.3), each(0.3))


def test_two_b_frames_in_twelve_are_ibbpbbpbbpbb() -> None:
    w = _pattern(12, 2).weights(np.zeros(12, dtype=int), np.arange(12))
    kinds = "".join({1.3: "I", 1.0: "P", 0.3: "B"}[float(x)] for x in w)
    assert kinds == "IBBPBBPBBPBB"


def test_no_b_frames_is_an_i_then_p_frames() -> None:
    w = _pattern(5, 0).weights(np.zeros(5, dtype=int), np.arange(5))
    assert w.tolist() == [1.3, 1.0, 1.0, 1.0, 1.0]


def test_mean_weight_is_the_patterns() -> None:
    assert _pattern(12, 2).mean_weight()[0] == pytest.approx((1.3 + 3 + 8 * 0.3) / 12)
    assert _pattern(1, 0).mean_weight()[0] == pytest.approx(1.3)


def test_frames_of_a_second_carry_its_bytes() -> None:
    """At 25 and at 7.5 frames/s (seconds of 7 and of 8 frames), with rates varying by second."""
    rng = SeedTree(3).generator("window")
    secs = 30
    rate = rng.uniform(0.5e6, 4e6, size=(2, secs))
    fps = np.array([25.0, 7.5])
    cam, time, size = frame_schedule(rate, fps, _pattern(12, 2, cams=2), 100.0, rng)
    got = np.zeros((2, secs))
    np.add.at(got, (cam, (time - 100.0).astype(int)), size)
    np.testing.assert_allclose(got, rate / 8, rtol=1e-9)


def test_below_one_frame_a_second_frames_carry_the_mean_rate() -> None:
    """At 0.5 frames/s half the seconds have no frame: each frame carries 2 s of bytes on
    average over its GOP's types (a GOP of 4: I + 3 P)."""
    rng = SeedTree(4).generator("window")
    secs = 4000
    rate = np.full((1, secs), 1e6)
    _, _, size = frame_schedule(rate, np.array([0.5]), _pattern(4, 0), 0.0, rng)
    assert size.size == 2000
    sd = FRAME_COV / np.sqrt(size.size)  # of the mean noise; the 500 GOPs' types average out
    assert abs(size.sum() / (1e6 / 8 * secs) - 1) < 4 * sd
