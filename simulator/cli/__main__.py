"""`python -m simulator.cli`: the camsim command."""

from simulator.cli import entry

entry()
