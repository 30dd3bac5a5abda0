"""Shared fixtures: small scenarios in tests/data/, loaded the way the CLI loads them."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import settings

from simulator.scenario import Scenario, load_scenario

# The property-based tests draw the same examples on every run, so a red CI run reproduces
# (HYPOTHESIS_PROFILE=explore draws new ones, to look for more).
settings.register_profile("camsim", derandomize=True, print_blob=True)
settings.register_profile("explore", derandomize=False, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "camsim"))

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


SETUP = Path(__file__).parent.parent / "loadtests" / "targets" / "setup"
ZM_PORT = int(os.environ.get("ZM_PORT", "8089"))


def run_setup(script: str, timeout_s: float = 600) -> str:
    """Run loadtests/targets/setup/<script>; fail the test with its message if it fails."""
    env = {**os.environ, "ZM_PORT": str(ZM_PORT)}
    run = subprocess.run(
        ["bash", str(SETUP / script)], capture_output=True, text=True, timeout=timeout_s, env=env
    )
    if run.returncode != 0:
        pytest.fail(f"{script} failed ({run.returncode}): {run.stderr.strip()[-2000:]}")
    return run.stdout.strip()


@pytest.fixture(scope="session")
def zoneminder_url() -> str:
    """The web root of a running ZoneMinder (http://127.0.0.1:$ZM_PORT/zm), from the repo's
    idempotent setup script (root only); if it fails, the tests that need it fail."""
    return run_setup("zoneminder.sh")


@pytest.fixture(scope="session")
def setup_script() -> Callable[[str], str]:
    """setup_script("motion.sh") runs loadtests/targets/setup/<script> (failing the test
    with its message if it fails) and returns what it printed."""
    return run_setup
