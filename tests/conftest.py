"""Shared fixtures: small scenarios in tests/data/, loaded the way the CLI loads them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from simulator.scenario import Scenario, load_scenario

DATA = Path(__file__).parent / "data"
SCENARIOS = Path(__file__).parent.parent / "scenarios"


def load_data_scenario(name: str, *overrides: str) -> Scenario:
    """tests/data/<name>.yaml with `--set`-style overrides applied."""
    return load_scenario(DATA / f"{name}.yaml", overrides)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The directory of the small test scenarios."""
    return DATA


@pytest.fixture(scope="session")
def load() -> Callable[..., Scenario]:
    """load(name, "a.b=1", ...) → the scenario tests/data/<name>.yaml, overridden."""
    return load_data_scenario


def with_seed(scenario: Scenario, seed: int) -> Scenario:
    """The same scenario with another simulation.seed."""
    return scenario.model_copy(
        update={"simulation": scenario.simulation.model_copy(update={"seed": seed})}
    )


@pytest.fixture(scope="session")
def reseed() -> Callable[[Scenario, int], Scenario]:
    """reseed(scenario, seed) → the same scenario with another seed."""
    return with_seed
