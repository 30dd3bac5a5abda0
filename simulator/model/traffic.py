"""Traffic: what the cameras send, per second over days and per frame over a window.

Per second, a VBR camera sends target × activity factor × night factor × a lognormal factor
whose logarithm is AR(1) (slowly varying scene content: GoP-level CoV 0.12 and strong
long-range correlation in the ASU parking-lot trace), capped at its VBR peak. A CBR camera
sends its target. Within a second, frames follow the GOP: an I-frame `I_TO_P` times a
P-frame, each frame Gamma-distributed around its share (Koumaras 2005).
"""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

from simulator.model.cameras import CameraTable, activity_bitrate_factor

GOP_COV = 0.12  # ASU parking-lot trace, GoP size CoV
AR_PHI = 0.98  # per-second autocorrelation of scene content (assumption: ~50 s memory)
I_TO_P = 5.0  # I-frame size / P-frame size (assumption, fits ASU frame peak/mean ≈ 3.5)
FRAME_COV = 0.25  # P-frame size CoV around its GOP share (assumption)
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
        innov = rng.standard_normal((drawn, draw_ticks or n), dtype=f32)[take, :n]
        innov *= f32(self._sigma * np.sqrt(1 - AR_PHI**2))
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


def frame_schedule(
    rate_bps: np.ndarray, fps: np.ndarray, gop: np.ndarray, t0: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Frames of one stream per camera over `rate_bps.shape[1]` seconds from t0.

    Each camera starts at a random phase within its frame interval and GOP. Returns
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
    gop_phase = rng.integers(0, np.maximum(gop, 1))
    is_i = (k + gop_phase[cam]) % gop[cam] == 0
    # Share of one second's bytes for an I-frame and a P-frame, GOP-averaged to 1.
    mean_share = (I_TO_P + gop - 1) / gop
    share = np.where(is_i, I_TO_P, 1.0) / mean_share[cam]
    shape = 1 / FRAME_COV**2
    noise = rng.gamma(shape, 1 / shape, size=cam.size)
    size = rate_bps[cam, second] / 8 / fps[cam] * share * noise
    return cam, time, size
