"""The `camsim` command line (click): shared options in `common`, one module per group of
commands. It parses arguments, calls the model and the executors, hands results to reporting."""

from __future__ import annotations

import click

from simulator import __version__
from simulator.cli.common import fail
from simulator.cli.lab import lab, verdict
from simulator.cli.load import loadtest
from simulator.cli.sizing import compare, run, validate
from simulator.cli.streams import serve, timeline
from simulator.cli.sweep import sweep


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="camsim")
def main() -> None:
    """camsim: simulate and load-test a city's video-surveillance network."""


for command in (validate, run, compare, sweep, timeline, serve, lab, verdict, loadtest):
    main.add_command(command)

__all__ = ["fail", "main"]
