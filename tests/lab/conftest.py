"""Fixtures for the lab: a real ZoneMinder, started by the repo's setup script."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

import loadtests.targets

SETUP = Path(loadtests.targets.__file__).parent / "setup"


@pytest.fixture(scope="session")
def zoneminder_url() -> str:
    """The web root of a running ZoneMinder (the setup script is idempotent; root only)."""
    env = {**os.environ, "ZM_PORT": os.environ.get("ZM_PORT", "8089")}
    run = subprocess.run(["bash", str(SETUP / "zoneminder.sh")], capture_output=True, text=True,
                         timeout=600, env=env)  # fmt: skip
    if run.returncode != 0:
        pytest.fail(f"zoneminder.sh failed ({run.returncode}): {run.stderr.strip()[-2000:]}")
    return run.stdout.strip()
