"""Sweeps: one scenario run for each value of one field, through any executor; and
replications: each scenario under independent seeds from its seed tree.

The runs of a sweep share the scenario's seed (and with replications, its replication seeds),
so the figures differ only by the field swept. Any
`concurrent.futures.Executor` runs them (the CLI uses worker processes: the runs are
independent and CPU-bound); the order of the results is the order of the values.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import replace

from simulator.model.replications import replicate, summarize
from simulator.model.results import Results
from simulator.model.sizing import simulate
from simulator.scenario import Scenario


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


Run = Callable[[Scenario], Results]  # simulate, size_year: top-level, so processes can take it


def run_sweep(
    scenarios: Sequence[Scenario], executor: Executor, run: Run = simulate
) -> list[Results]:
    """Simulate every scenario on the executor; results in the scenarios' order."""
    return list(executor.map(run, scenarios))


def run_replicated(
    scenarios: Sequence[Scenario], count: int, executor: Executor, run: Run = simulate
) -> list[Results]:
    """`count` independent replications of each scenario (seeds from its seed tree), all on
    the executor at once; for each scenario, its first replication carrying the key figures'
    intervals over all `count`."""
    runs = run_sweep([r for s in scenarios for r in replicate(s, count)], executor, run)
    return [
        replace(group[0], replications=summarize(s.simulation.seed, group))
        for s, group in zip(
            scenarios, (runs[i : i + count] for i in range(0, len(runs), count)), strict=True
        )
    ]
