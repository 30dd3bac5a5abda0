"""Sweeps: one scenario run for each value of one field, through any executor.

The runs share the scenario's seed, so the figures differ only by the field swept. Any
`concurrent.futures.Executor` runs them (the CLI uses worker processes: the runs are
independent and CPU-bound); the order of the results is the order of the values.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Executor

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


def run_sweep(scenarios: Sequence[Scenario], executor: Executor) -> list[Results]:
    """Simulate every scenario on the executor; results in the scenarios' order."""
    return list(executor.map(simulate, scenarios))
