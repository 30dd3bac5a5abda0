"""Traffic: what the cameras send, per second over days and per frame over a window.

Per second, a VBR camera sends target × activity factor × night factor × a lognormal factor
whose logarithm is AR(1) (slowly varying scene content: GoP-level CoV 0.12 and strong
long-range correlation in the ASU parking-lot trace), capped at its VBR peak. The AR(1)'s
innovations are uniform with the variance of the Gaussian ones: at φ = 0.98 each value sums
about (1 + φ)/(1 − φ) ≈ 100 of them, so it is Gaussian to an excess kurtosis of
1.2 (1 − φ²)/(1 + φ²) ≈ 0.02 (tests/model/test_traffic.py), and a uniform draw costs a
fifth of a normal one, which was the day's largest single cost. A CBR camera
sends its target. Within a second, frames follow each camera's GOP pattern (I, P and B
frames, `GopPattern`), each frame Gamma-distributed around its type's share (Koumaras 2005),
and the frames of a second carry exactly that second's bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import lfilter

from simulator.model.cameras import CameraTable, activity_bitrate_factor

GOP_COV = 0.12  # ASU parking-lot trace, GoP size CoV
AR_PHI = 0.98  # per-second autocorrelation of scene content (assumption: ~50 s memory)
#: A frame's size CoV around its type's share. Small: in the ASU parking-lot trace the GoP
#: CoV (0.12) is the scene's alone (tests/model/test_trace.py fits 0.05).
FRAME_COV = 0.05
SUB_GOP_S = 2.0  # sub-stream GOP length in seconds (assumption)


class Traffic:
    """Generates per-second main and sub stream rates, one time chunk after another."""

    def __init__(
        self,
        table: CameraTable,
        rng: np.random.Generator | None,
        state: np.ndarray | None = None,
    ) -> None:
        """Start from a stationary draw from `rng`, or resume from a `state()` taken earlier."""
        self.table = table
        self._sigma = np.sqrt(np.log1p(GOP_COV**2))
        if state is None:
            assert rng is not None, "a stationary start needs a generator"
            state = rng.standard_normal(len(table)) * self._sigma
        self._state = state.copy()
        f32 = np.float32
        self._cbr = table.cbr
        self._night = table.night_factor.astype(f32)[:, None]
        self._scale = (table.main_mbps * 1e6).astype(f32)[:, None]
        self._cap = (table.cap_mbps * 1e6).astype(f32)[:, None]
        self._sub_share = (table.sub_mbps / table.main_mbps).astype(f32)[:, None]

    def state(self) -> np.ndarray:
        """The AR(1) state at the end of the last chunk (to resume from here)."""
        return self._state.copy()

    def rates(
        self,
        activity: np.ndarray,
        night: np.ndarray,
        rng: np.random.Generator,
        draw_ticks: int | None = None,
        rows: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Main and sub stream bits/s, shape (cameras, seconds), for the next chunk.

        activity: (cameras, seconds) 0..1.5; night: (seconds,) bool. `draw_ticks` and `rows`
        regenerate part of a chunk: its first activity.shape[1] seconds of `draw_ticks`, of
        these cameras only (sorted, activity's rows). The draws are then the whole chunk's
        (up to the last row: they are drawn camera after camera) and the state stays.
        """
        n = activity.shape[1]
        f32 = np.float32
        take = slice(None) if rows is None else rows
        drawn = len(self.table) if rows is None else int(rows[-1]) + 1
        innov = rng.random((drawn, draw_ticks or n), dtype=f32)[take, :n]
        innov -= f32(0.5)  # uniform, mean 0 and variance 1/12
        innov *= f32(self._sigma * np.sqrt(12 * (1 - AR_PHI**2)))
        zi = (AR_PHI * self._state[take]).astype(f32)[:, None]
        x, _ = lfilter(np.array([1], f32), np.array([1, -AR_PHI], f32), innov, axis=1, zi=zi)
        del innov
        if draw_ticks is None and rows is None:
            self._state = x[:, -1].astype(np.float64)
        x -= f32(self._sigma**2 / 2)
        factor = np.exp(x, out=x)
        factor *= activity_bitrate_factor(activity)
        for a, b in _runs(night):
            factor[:, a:b] *= self._night[take]
        scale, cbr = self._scale[take], self._cbr[take]
        factor *= scale
        main = np.minimum(factor, self._cap[take], out=factor)
        if cbr.any():
            main[cbr] = scale[cbr]
        sub = main * self._sub_share[take]
        return main, sub


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) of each run of True in a 1-D bool array."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.view(np.int8), [0]])))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


@dataclass(frozen=True)
class GopPattern:
    """Each camera's GOP: its length in frames, the B-frames between reference frames
    (b_frames=2 and length 12: IBBPBBPBBPBB), and the mean size of an I- and of a B-frame
    relative to a P-frame."""

    length: np.ndarray  # int, frames
    b_frames: np.ndarray  # int
    i_to_p: np.ndarray
    b_to_p: np.ndarray

    @classmethod
    def of(cls, table: CameraTable) -> GopPattern:
        """The main streams' GOPs, as the cameras' groups configure them."""
        return cls(table.gop, table.b_frames, table.i_to_p, table.b_to_p)

    def weights(self, cam: np.ndarray, position: np.ndarray) -> np.ndarray:
        """Mean size of the frame at `position` in camera `cam`'s GOP, relative to a P-frame."""
        b = self.b_frames[cam]
        weight = np.where(position % (b + 1) == 0, 1.0, self.b_to_p[cam])
        return np.where(position == 0, self.i_to_p[cam], weight)

    def mean_weight(self) -> np.ndarray:
        """Each camera's mean frame weight over its GOP."""
        length = np.maximum(self.length, 1)
        p_frames = (length - 1) // (self.b_frames + 1)
        return (self.i_to_p + p_frames + self.b_to_p * (length - 1 - p_frames)) / length


def frame_schedule(
    rate_bps: np.ndarray, fps: np.ndarray, gop: GopPattern, t0: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Frames of one stream per camera over `rate_bps.shape[1]` seconds from t0.

    Each camera starts at a random phase within its frame interval and GOP. A frame's size is
    its type's weight times Gamma noise (mean 1, CoV FRAME_COV), scaled so that the frames
    sent within a second carry that second's bytes exactly (at fps ≥ 1, where every second
    has a frame; below, each frame carries 1/fps seconds' bytes on average). Returns
    (camera index, send time s, size bytes) for every frame, grouped by camera.
    """
    cams, secs = rate_bps.shape
    per_cam = np.floor(fps * secs).astype(np.int64)
    cam = np.repeat(np.arange(cams), per_cam)
    starts = np.concatenate([[0], np.cumsum(per_cam)[:-1]])
    k = np.arange(per_cam.sum()) - np.repeat(starts, per_cam)  # frame number within camera
    phase = rng.random(cams)
    time = t0 + (k + phase[cam]) / fps[cam]
    second = np.minimum((time - t0).astype(np.int64), secs - 1)
    length = np.maximum(gop.length, 1)
    gop_phase = rng.integers(0, length)
    shape = 1 / FRAME_COV**2
    weight = gop.weights(cam, (k + gop_phase[cam]) % length[cam])
    weight *= rng.gamma(shape, 1 / shape, size=cam.size)
    cell = cam * secs + second  # (camera, second) of each frame
    per_second = np.bincount(cell, weights=weight, minlength=cams * secs)[cell]
    slow = fps[cam] < 1  # seconds without a frame: normalise by the GOP's mean weight instead
    per_second[slow] = (fps * gop.mean_weight())[cam[slow]]
    size = rate_bps[cam, second] / 8 * weight / per_second
    return cam, time, size
