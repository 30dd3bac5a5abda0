"""Link measures: what the network's links carry over a run, collected chunk by chunk.

The per-camera access links as one class (a utilisation histogram, the mean and busiest
camera per tick, fluid overflow, each camera's mean rate), and each shared link (district
uplinks and backups, the core) per tick: utilisation, bytes offered and lost. Turned into
LinkStats with the frame-level window's figures.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from simulator.model.links import NetworkLink
from simulator.model.results import LinkStats
from simulator.model.states import States
from simulator.model.window import WindowResult
from simulator.scenario.schema import Scenario

UTIL_BINS = 1000  # access-link utilisation histogram: 0.1 % bins up to 200 %


class LinkMeasures:
    """Accumulates the access and shared links' figures over the run's chunks."""

    def __init__(self, scenario: Scenario, states: States, links: list[NetworkLink]) -> None:
        self.scenario, self.states, self.links = scenario, states, links
        ticks, self.tick = states.ticks, states.tick
        n_cam = len(states.table)
        self.access_cap = scenario.network.access.capacity_mbps * 1e6
        self.access_hist = np.zeros(2 * UTIL_BINS + 1, dtype=np.int64)
        self.access_series = np.zeros((2, ticks), dtype=np.float32)  # mean, max over cameras
        self.access_offered = self.access_lost = 0.0
        self.camera_bits = np.zeros(n_cam)
        self.camera_ticks = np.zeros(n_cam)
        self.util = np.zeros((len(links), ticks), dtype=np.float32)
        self.offered = np.zeros(len(links))
        self.lost = np.zeros(len(links))

    def access(self, a: int, b: int, sent: np.ndarray) -> None:
        """Per-camera access links: utilisation histogram and fluid overflow."""
        util = sent / self.access_cap
        self.access_series[0, a:b] = util.mean(axis=0)
        self.access_series[1, a:b] = peak = util.max(axis=0)
        scaled = np.multiply(util, UTIL_BINS, out=util)
        np.minimum(scaled, 2 * UTIL_BINS, out=scaled)  # before truncation: same bins, fewer bytes
        self.access_hist += np.bincount(scaled.astype(np.intp).ravel(), minlength=2 * UTIL_BINS + 1)
        self.camera_bits += sent.sum(axis=1)
        self.camera_ticks += np.count_nonzero(sent, axis=1)
        self.access_offered += float(sent.sum()) * self.tick / 8
        if peak.size and peak.max() >= 1:  # overflow is rare: sum only if there may be some
            self.access_lost += float(np.maximum(sent - self.access_cap, 0).sum()) * self.tick / 8

    def network(self, a: int, b: int, offered: np.ndarray, lost: np.ndarray) -> None:
        """Shared links: bytes offered and lost per tick."""
        caps = np.array([lk.capacity_Bps * self.tick for lk in self.links])[:, None]
        self.util[:, a:b] = offered / caps
        self.offered += offered.sum(axis=1)
        self.lost += lost.sum(axis=1)

    def busiest_window(self, length_s: float, link: int = -1) -> tuple[int, int]:
        """[first, last) tick of the window where a link (default: the core) is busiest."""
        n = min(self.states.ticks, max(1, math.ceil(length_s / self.tick)))
        load = np.concatenate([[0.0], np.cumsum(self.util[link], dtype=np.float64)])
        first = int(np.argmax(load[n:] - load[:-n]))
        return first, first + n

    def stats(
        self, window: WindowResult, start_s: float, starts_s: dict[str, float]
    ) -> list[LinkStats]:
        """The access links (their window: the core's, at `start_s`), then each shared link
        (its window from `starts_s[link]`)."""
        return [self._access(window, start_s)] + [
            self._shared(i, lk, window, starts_s[lk.name]) for i, lk in enumerate(self.links)
        ]

    def util_series(self, fold: Callable[[np.ndarray, str], np.ndarray]) -> tuple[np.ndarray, ...]:
        """Mean and max utilisation per step (`fold` of the ticks), access links first."""
        mean = np.vstack([fold(self.access_series[0], "mean"), fold(self.util, "mean")])
        peak = np.vstack([fold(self.access_series[1], "max"), fold(self.util, "max")])
        return mean, peak

    def camera_mean_mbps(self) -> np.ndarray:
        """Each camera's mean rate while sending (main + sub stream)."""
        return (
            np.divide(
                self.camera_bits,
                self.camera_ticks,
                out=np.zeros_like(self.camera_bits),
                where=self.camera_ticks > 0,
            )
            / 1e6
        )

    def _access(self, window: WindowResult, start_s: float) -> LinkStats:
        hist = self.access_hist
        total = hist.sum()
        centers = (np.arange(hist.size) + 0.5) / UTIL_BINS
        p99 = float(centers[np.searchsorted(np.cumsum(hist), 0.99 * total)]) if total else 0.0
        p99 = min(p99, float(self.access_series[1].max()))  # a bin centre can pass the max
        access = self.scenario.network.access
        down = sum(e - s for v in self.states.access_down.values() for s, e in v)
        return LinkStats(
            name="access",
            kind="access",
            capacity_mbps=access.capacity_mbps,
            count=len(self.states.table),
            mean_util=float((hist * centers).sum() / total) if total else 0.0,
            p99_util=p99,
            max_util=float(self.access_series[1].max()),
            loss_fraction=self.access_lost / self.access_offered if self.access_offered else 0.0,
            **_window_stats(window, "access"),
            window_start_s=start_s,
            down_hours=down * self.tick / 3600,
        )

    def _shared(self, i: int, link: NetworkLink, window: WindowResult, start_s: float) -> LinkStats:
        util = self.util[i]
        return LinkStats(
            name=link.name,
            kind=link.kind,
            capacity_mbps=link.spec.capacity_mbps,
            count=1,
            mean_util=float(util.mean()),
            p99_util=float(np.percentile(util, 99)),
            max_util=float(util.max()),
            loss_fraction=float(self.lost[i] / self.offered[i]) if self.offered[i] else 0.0,
            **_window_stats(window, link.name),
            window_start_s=start_s,
            down_hours=self.states.link_down_hours.get(link.name, 0.0),
        )


def _window_stats(window: WindowResult, name: str) -> dict[str, float]:
    seen = window.links.get(name)
    if seen is None or seen.waits_s.size == 0:
        return dict(window_loss_fraction=0.0, mean_delay_ms=0.0, p99_delay_ms=0.0, max_delay_ms=0.0)
    ms = seen.waits_s * 1e3
    return dict(
        window_loss_fraction=seen.lost_bytes / seen.offered_bytes if seen.offered_bytes else 0.0,
        mean_delay_ms=float(ms.mean()),
        p99_delay_ms=float(np.percentile(ms, 99)),
        max_delay_ms=float(ms.max()),
    )
