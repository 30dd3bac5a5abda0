"""A small hand-built Results with realistic shapes: 3 links + access, 2 servers, 1440 steps."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from simulator.model.results import (
    LinkStats,
    RecordingStats,
    Results,
    Series,
    ServerStats,
    Sizing,
    Window,
)

STEPS = 1440
STEP_S = 60
N_CAMERAS = 40


def build_results(seed: int = 7) -> Results:
    """A synthetic one-day run; same seed gives an equal (not identical) object."""
    rng = np.random.default_rng(seed)
    t_h = np.arange(STEPS) * STEP_S / 3600
    diurnal = 0.55 + 0.35 * np.sin((t_h - 9) / 24 * 2 * np.pi)  # peak mid-afternoon
    link_names = ["access", "centre", "centre-backup", "core"]
    level = np.array([0.04, 1.25, 0.02, 0.15])[:, None]
    mean_util = level * diurnal[None, :] * (1 + 0.05 * rng.standard_normal((4, STEPS)))
    max_util = mean_util * (1.3 + 0.2 * rng.random((4, STEPS)))

    links = [
        LinkStats("access", "access", 100.0, N_CAMERAS, 0.0412345678, 0.071, 0.2, 0.0, 0.0,
                  0.012, 0.09, 0.31, 3.5),
        LinkStats("centre", "uplink", 1000.0, 1, 0.6876543219, 0.912, 1.04, 1.2345e-4,
                  3.1e-3, 0.84, 6.4321, 19.2, 0.0),
        LinkStats("centre-backup", "backup", 1000.0, 1, 0.011, 0.02, 0.03, 0.0, 0.0, 0.0,
                  0.0, 0.0, 0.0),
        LinkStats("core", "core", 10000.0, 1, 0.083, 0.131, 0.18, 0.0, 0.0, 0.003, 0.021,
                  0.05, 2.0),
    ]  # fmt: skip
    for link in links:  # every link in the core's window (a district link may have its own)
        link.window_start_s = 66600.0
    servers = [
        ServerStats("rec-1", 22, 600.0, 175, 101.2, 141.7, 152.3, 410.0, 590.0, 1800.0,
                    2160.0, 160.0, 121.3333333, 0.0),
        ServerStats("rec-2", 18, 100.0, 175, 83.4, 116.8, 124.9, 330.0, 480.0, 1800.0,
                    2160.0, 90.0, 99.87654321, 1.25),
    ]  # fmt: skip
    ingest = np.vstack([s.ingest_mean_mbps * diurnal / diurnal.mean() for s in servers]) * (
        1 + 0.03 * rng.standard_normal((2, STEPS))
    )
    storage_days = np.arange(31, dtype=float)
    fill = np.vstack([np.minimum(storage_days, 30) / 30 * s.storage_needed_tb for s in servers])
    series = Series(
        step_s=STEP_S,
        link_names=link_names,
        link_mean_util=mean_util,
        link_max_util=max_util,
        server_names=[s.name for s in servers],
        server_ingest_mbps=ingest,
        storage_days=storage_days,
        storage_fill_tb=fill,
        camera_mean_mbps=rng.lognormal(np.log(4.0), 0.35, N_CAMERAS),
        camera_ids=[f"cam-{i + 1:03d}" for i in range(N_CAMERAS)],
        camera_districts=["centre" if i < N_CAMERAS // 2 else "gare" for i in range(N_CAMERAS)],
        camera_servers=["rec-1" if i % 2 else "" for i in range(N_CAMERAS)],
    )
    return Results(
        scenario="Test town",
        seed=seed,
        cameras=N_CAMERAS,
        days=1.0,
        links=links,
        servers=servers,
        recording=RecordingStats(
            expected_hours=960.0,
            recorded_hours=951.25,
            lost_hours={"camera": 6.5, "link": 0.0, "server": 2.25, "overload": 0.0},
        ),
        sizing=Sizing(
            servers_configured=2,
            servers_needed=3,
            binding="storage",
            by_constraint={"ingest": 2, "streams": 1, "iops": 1, "storage": 3},
            storage_needed_tb=221.2098765,
            storage_usable_tb=250.0,
            daily_write_tb=7.3736625,
            planning_load=0.8,
            daily_lost_tb={"camera": 0.05, "link": 0.0, "server": 0.017, "overload": 0.0},
        ),
        window=Window(start_s=66600.0, length_s=3600.0, frames=2_160_000, end_to_end_p99_ms=8.75),
        series=series,
        warnings=[
            "link centre: p99 utilisation 91.2 % exceeds the 80 % planning line",
            "rec-2: storage needed 99.9 TB exceeds usable 90 TB",
        ],
    )


@pytest.fixture
def results() -> Results:
    """The synthetic run."""
    return build_results()


@pytest.fixture
def make_results() -> Callable[..., Results]:
    """Build further synthetic runs (e.g. with another seed)."""
    return build_results
