"""`python -m simulator.cli`: the camsim command."""

from simulator.cli import main

main(prog_name="camsim")
