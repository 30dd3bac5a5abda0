"""The `camsim` command line: parses arguments, calls the model, hands results to reporting."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from simulator import __version__
from simulator.scenario import Scenario, ScenarioError, load_scenario


def _load(path: str, overrides: tuple[str, ...]) -> Scenario:
    try:
        return load_scenario(path, overrides)
    except ScenarioError as exc:
        fail(str(exc))


def fail(message: str) -> None:
    """Report a user mistake on one line and exit with status 2."""
    click.echo(f"camsim: error: {message}", err=True)
    sys.exit(2)


set_option = click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="PATH=VALUE",
    help="Override a scenario field, e.g. --set simulation.days=2 (repeatable).",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="camsim")
def main() -> None:
    """camsim: simulate and load-test a city's video-surveillance network."""


@main.command()
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=str))
@set_option
def validate(scenario: str, overrides: tuple[str, ...]) -> None:
    """Check a scenario file and print what it describes."""
    s = _load(scenario, overrides)
    servers = sum(g.count for g in s.recording.servers)
    click.echo(
        f"{Path(scenario)}: ok — {s.name}: {s.camera_count} cameras in "
        f"{len(s.network.districts)} districts, {servers} recording servers, "
        f"{s.recording.retention_days:g}-day retention"
    )
