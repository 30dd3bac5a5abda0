"""simulator/sweep.py: the grid of --vary fields, its size limit, and runs on any executor (local
processes and an in-process Dask cluster give the same results)."""

from __future__ import annotations

import dataclasses
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from multiprocessing import get_context
from typing import Any

import numpy as np
import pytest

from simulator.sweep import (
    MAX_RUNS,
    GridError,
    check_size,
    make_grid,
    parse_axis,
    run_replicated,
    run_sweep,
    split_values,
)


def test_sweep_values_keep_lists_whole() -> None:
    assert split_values("2,4, 6") == ["2", "4", "6"]
    assert split_values("[2,3],[4,5]") == ["[2,3]", "[4,5]"]
    assert split_values("{a: 1, b: 2},x") == ["{a: 1, b: 2}", "x"]


def test_grid_is_the_product_with_the_first_field_slowest() -> None:
    grid = make_grid(["recording.retention_days=10,20", "operators.on_duty=[1,2],[3,4],5"])
    assert grid.fields == ["recording.retention_days", "operators.on_duty"]
    assert grid.shape == [2, 3]
    assert grid.points == [("10", "[1,2]"), ("10", "[3,4]"), ("10", "5"),
                           ("20", "[1,2]"), ("20", "[3,4]"), ("20", "5")]  # fmt: skip
    assert grid.overrides(grid.points[4]) == (
        "recording.retention_days=20",
        "operators.on_duty=[3,4]",
    )
    assert make_grid(["a=1, 2 ,3"]).points == [("1",), ("2",), ("3",)]


@pytest.mark.parametrize(
    ("texts", "fragment"),
    [
        ([], "at least one"),
        (["recording.retention_days"], "expected PATH=V1,V2"),
        (["=1,2"], "expected PATH=V1,V2"),
        (["recording.retention_days="], "no values"),
        (["recording.retention_days= , ,"], "no values"),
        (["recording.retention_days=10,20,10"], "'10' is given twice"),
        (["a.b=1,2", "c=3", " a.b =4"], "a.b: the same field is given twice"),
    ],
)
def test_a_grid_that_is_not_one_says_why(texts: list[str], fragment: str) -> None:
    with pytest.raises(GridError, match="^--vary") as err:
        make_grid(texts)
    assert fragment in str(err.value)


def test_a_grid_over_the_limit_says_how_large_and_the_limit() -> None:
    grid = make_grid(["a=1,2,3", "b=1,2,3,4"])
    assert check_size(grid, None) == 12
    assert check_size(grid, 8) == 96
    with pytest.raises(GridError) as err:
        check_size(grid, 10)
    message = str(err.value)
    assert "3 × 4 = 12 points × 10 replications = 120 runs" in message
    assert f"limit of {MAX_RUNS} runs" in message and "--yes" in message
    assert check_size(grid, 10, limit=None) == 120
    assert parse_axis("x=1").values == ("1",)
    assert make_grid(["x=1"]).size(None) == "1 point = 1 run"
    assert make_grid(["x=1,2"]).size(3) == "2 points × 3 replications = 6 runs"


def _seed_after_a_pause(scenario: Any) -> int:
    """The run's seed, the first runs taking longest (so they complete last)."""
    time.sleep(0.05 * (5 - scenario.simulation.seed))
    return scenario.simulation.seed


def test_results_come_back_in_the_points_order_whatever_order_they_complete(load, reseed):
    base = load("cbr_city")
    scenarios = [reseed(base, s) for s in range(5)]
    heard = []
    with ThreadPoolExecutor(max_workers=5) as pool:
        out = run_sweep(scenarios, pool, _seed_after_a_pause, lambda n, m: heard.append((n, m)))
    assert out == [0, 1, 2, 3, 4]
    assert heard == [(n, 5) for n in range(1, 6)]


def _equal(a: Any, b: Any) -> bool:
    """Deep equality of results: dataclasses field by field, arrays element by element."""
    if dataclasses.is_dataclass(a):
        return type(a) is type(b) and all(
            _equal(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a)
        )
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        return a.shape == b.shape and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float) and np.isnan(a) and np.isnan(b):
        return True
    return a == b


def test_a_dask_local_cluster_gives_exactly_the_local_processes_results(load):
    from distributed import Client, LocalCluster

    grid = make_grid(["incidents.per_camera_day=1,4", "recording.retention_days=7,14"])
    scenarios = [load("incidents_city", *grid.overrides(p)) for p in grid.points]
    # spawned, as `camsim sweep` does: a fork of this process (it has threads) can hang
    with ProcessPoolExecutor(max_workers=2, mp_context=get_context("spawn")) as pool:
        local = run_replicated(scenarios, 2, pool)
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                     scheduler_kwargs={"dashboard": False}) as cluster,
        Client(cluster) as client,
    ):  # fmt: skip
        dask = run_replicated(scenarios, 2, client.get_executor())
    assert len(dask) == len(local) == 4
    # every point ran the same replication seeds, children of the scenario's seed
    assert {tuple(r.replications.seeds) for r in local} == {tuple(local[0].replications.seeds)}
    assert {r.replications.seed for r in local} == {scenarios[0].simulation.seed}
    assert all(_equal(d, x) for d, x in zip(dask, local, strict=True))
    # and the figures differ across the grid, so the equality says something
    assert len({r.sizing.storage_needed_tb for r in local}) == 2
    assert len({r.replications.figures["incidents"].mean for r in local}) >= 2
    # the equality test itself can fail: another seed is not equal
    assert not _equal(local[0].replications, local[1].replications)
