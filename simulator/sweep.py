"""Sweeps: one scenario run for each point of a grid of field values, through any executor; and
replications: each scenario under independent seeds from its seed tree.

A grid is the cartesian product of one or more axes (a field and its values), its points in
`itertools.product` order: the first axis varies slowest, the last fastest
(`--vary a=1,2 --vary b=x,y` runs a=1 b=x, a=1 b=y, a=2 b=x, a=2 b=y). The runs of a sweep
share the scenario's seed (and with replications, its replication seeds), so the figures
differ only by the fields swept. Any `concurrent.futures.Executor` runs them (the CLI uses
worker processes, or a Dask cluster: the runs are independent and CPU-bound); the results
come back in the order of the points, whatever the order the runs complete in.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future, as_completed
from dataclasses import dataclass, replace

from simulator.model.costs import costs_of
from simulator.model.replications import replicate, summarize
from simulator.model.results import Results
from simulator.model.sizing import simulate
from simulator.scenario import Scenario

MAX_RUNS = 100
"""Runs (points × replications) a sweep starts without being told --yes: 100 year-aware runs
are over an hour on two cores."""


class GridError(ValueError):
    """A --vary that describes no grid, or one too large; the message is the user's one line."""


def split_values(text: str) -> list[str]:
    """`2,4,6` → ['2', '4', '6']; commas inside [] or {} stay (`[2,3],[4,5]` → two values)."""
    values, depth, current = [], 0, []
    for ch in text:
        depth += ch in "[{"
        depth -= ch in "]}"
        if ch == "," and depth == 0:
            values.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    values.append("".join(current).strip())
    return [v for v in values if v]


@dataclass(frozen=True)
class Axis:
    """One swept field and its values, as given (YAML, validated when loaded)."""

    field: str
    values: tuple[str, ...]


def _first_repeat(items: Sequence[str]) -> str | None:
    return next((x for i, x in enumerate(items) if x in items[:i]), None)


def parse_axis(text: str) -> Axis:
    """`PATH=V1,V2,...` → Axis; GridError for no `=`, no field, no values or a repeated value."""
    name, sep, raw = text.partition("=")
    field, values = name.strip(), split_values(raw)
    if not sep or not field:
        raise GridError(
            f"--vary {text!r}: expected PATH=V1,V2,..., e.g. operators.monitors_each=2,4,6"
        )
    if not values:
        raise GridError(f"--vary {text!r}: no values after '=' (the grid would be empty)")
    repeated = _first_repeat(values)
    if repeated is not None:
        raise GridError(f"--vary {field}: the value {repeated!r} is given twice")
    return Axis(field, tuple(values))


@dataclass(frozen=True)
class Grid:
    """The cartesian product of its axes (the first varies slowest)."""

    axes: tuple[Axis, ...]

    @property
    def fields(self) -> list[str]:
        return [a.field for a in self.axes]

    @property
    def shape(self) -> list[int]:
        return [len(a.values) for a in self.axes]

    @property
    def points(self) -> list[tuple[str, ...]]:
        """Every combination of values, one per field, in `itertools.product` order."""
        return list(itertools.product(*(a.values for a in self.axes)))

    def runs(self, replications: int | None) -> int:
        """Runs in all: points × replications."""
        return math.prod(self.shape) * (replications or 1)

    def size(self, replications: int | None) -> str:
        """`2 × 3 = 6 points × 5 replications = 30 runs`, for the user."""
        points, runs = math.prod(self.shape), self.runs(replications)
        shape = " × ".join(map(str, self.shape)) + " = " if len(self.axes) > 1 else ""
        reps = f" × {replications} replications" if replications else ""
        return f"{shape}{points} point{'s' * (points != 1)}{reps} = {runs} run{'s' * (runs != 1)}"

    def overrides(self, point: Sequence[str]) -> tuple[str, ...]:
        """`--set`-style overrides for one point."""
        return tuple(f"{f}={v}" for f, v in zip(self.fields, point, strict=True))


def make_grid(texts: Sequence[str]) -> Grid:
    """The grid of one or more --vary texts; GridError for none, a bad one or a field twice."""
    if not texts:
        raise GridError("--vary: give at least one PATH=V1,V2,... (the grid would be empty)")
    axes = [parse_axis(t) for t in texts]
    twice = _first_repeat([a.field for a in axes])
    if twice is not None:
        raise GridError(f"--vary {twice}: the same field is given twice; list its values once")
    return Grid(tuple(axes))


def check_size(grid: Grid, replications: int | None, limit: int | None = MAX_RUNS) -> int:
    """The sweep's run count; GridError when it is over `limit` (None: no limit; the CLI's
    --yes)."""
    runs = grid.runs(replications)
    if limit is not None and runs > limit:
        raise GridError(
            f"--vary: the grid is {grid.size(replications)}, over the limit of {limit} runs; "
            "give --yes to run them all"
        )
    return runs


Run = Callable[[Scenario], Results]  # simulate, size_year: top-level, so processes can take it
Done = Callable[[int, int], None]  # (runs done, runs in all), called as each run completes


def run_sweep(
    scenarios: Sequence[Scenario],
    executor: Executor,
    run: Run = simulate,
    done: Done | None = None,
) -> list[Results]:
    """Run every scenario on the executor; results in the scenarios' order. `done` hears of
    each run as it completes; the first run to fail cancels those not yet started. Each result
    carries its scenario's costs (simulator.model.costs), when the scenario has prices."""
    futures = [executor.submit(run, s) for s in scenarios]
    where: dict[Future[Results], int] = {f: i for i, f in enumerate(futures)}
    results: list[Results | None] = [None] * len(futures)
    try:
        for n, f in enumerate(as_completed(futures), start=1):
            results[where[f]] = f.result()
            if done is not None:
                done(n, len(futures))
    except BaseException:
        for f in futures:
            f.cancel()
        raise
    for s, r in zip(scenarios, results, strict=True):
        if s.costs is not None:
            r.costs = costs_of(s, r)  # type: ignore[union-attr]  # every slot filled above
    return results  # type: ignore[return-value]


def run_replicated(
    scenarios: Sequence[Scenario],
    count: int,
    executor: Executor,
    run: Run = simulate,
    done: Done | None = None,
) -> list[Results]:
    """`count` independent replications of each scenario (seeds from its seed tree), all on
    the executor at once; for each scenario, its first replication carrying the key figures'
    intervals over all `count`."""
    runs = run_sweep([r for s in scenarios for r in replicate(s, count)], executor, run, done)
    return [
        replace(group[0], replications=summarize(s.simulation.seed, group))
        for s, group in zip(
            scenarios, (runs[i : i + count] for i in range(0, len(runs), count)), strict=True
        )
    ]
