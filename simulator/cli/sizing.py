"""Sizing commands: `camsim validate`, `run` and `compare` (`sweep` is in cli/sweep.py)."""

from __future__ import annotations

import time
from pathlib import Path

import click

from simulator.cli.common import ProgressBar, fail, load, scenario_options
from simulator.cli.runs import (
    check_pool,
    replicated,
    replication_options,
    sizing_run,
    year_flag,
    year_of,
)


@click.command()
@click.argument("scenario", type=click.Path(path_type=str))
@scenario_options
def validate(
    scenario: str, overrides: tuple[str, ...], seed: int | None, days: float | None
) -> None:
    """Check a scenario file and print what it describes.

    It also checks what `camsim serve` can serve."""
    s = load(scenario, overrides, seed, days)
    servers = sum(g.count for g in s.recording.servers)
    click.echo(
        f"{Path(scenario)}: ok — {s.name}: {s.camera_count} cameras in "
        f"{len(s.network.districts)} districts, {servers} recording servers, "
        f"{s.recording.retention_days:g}-day retention"
    )


@click.command()
@click.argument("scenario", type=click.Path(path_type=str))
@click.option(
    "--out", "out_dir", type=click.Path(path_type=Path), default=None,
    help="Directory for report.json, CSVs and report.html [default: out/<SCENARIO's file "
    "name without extension>, e.g. out/strasbourg].",
)  # fmt: skip
@scenario_options
@year_flag
@replication_options
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def run(
    scenario: str,
    out_dir: Path | None,
    overrides: tuple[str, ...],
    seed: int | None,
    days: float | None,
    year: bool | None,
    replications: int | None,
    jobs: int | None,
    scheduler: str | None,
    quiet: bool,
) -> None:
    """Size a city: storage, servers, links and recording availability.

    Simulates SCENARIO and reports what it needs (and, with an `operators` section, the share
    of incidents the operators see). By default
    the sizing holds for the whole year: the retention window that stores the most and the
    year's peak day; with --days (or --no-year), the scenario's own span."""
    from simulator.model.costs import costs_of
    from simulator.report import summary_text, write_report

    check_pool(jobs, scheduler, runs_here=replications is None)
    s = load(scenario, overrides, seed, days)
    out = out_dir if out_dir is not None else Path("out") / Path(scenario).stem
    if out.exists() and not out.is_dir():
        fail(f"--out {out}: exists and is not a directory")
    year = year_of(year, overrides, days)
    label = f"{s.camera_count} cameras × " + ("a year" if year else f"{s.simulation.days:g} d")
    started = time.perf_counter()
    if replications is None:
        with ProgressBar(quiet, f"simulating {label}") as bar:
            results = sizing_run(year)(s, progress=bar)
        results.costs = costs_of(s, results)
    else:
        click.echo(f"simulating {label}, {replications} replications...", err=True)
        (results,) = replicated([s], replications, jobs, scheduler, sizing_run(year), quiet=quiet)
    elapsed = time.perf_counter() - started
    click.echo(summary_text(results))
    try:
        paths = write_report(results, out)
    except OSError as exc:
        fail(f"--out {out}: cannot write the report: {exc.strerror or exc}")
    click.echo(f"simulated in {elapsed:.1f} s; wrote {', '.join(p.name for p in paths)} to {out}/")


@click.command()
@click.argument("base", type=click.Path(path_type=str))
@click.argument("other", type=click.Path(path_type=str))
@scenario_options
@year_flag
@replication_options
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def compare(
    base: str,
    other: str,
    overrides: tuple[str, ...],
    seed: int | None,
    days: float | None,
    year: bool | None,
    replications: int | None,
    jobs: int | None,
    scheduler: str | None,
    quiet: bool,
) -> None:
    """Compare two scenarios, such as a city and its expansion.

    Simulates BASE and OTHER with the same seed and puts their key figures side by side;
    --set, --seed and --days apply to both. With --replications, both run the same N seeds
    and each difference comes with its paired confidence interval. Both are sized for the
    year, as `camsim run` does, unless --days (or --no-year) gives the scenarios' span."""
    from simulator.model.costs import costs_of
    from simulator.report.compare import compare_text

    year = year_of(year, overrides, days)
    check_pool(jobs, scheduler, runs_here=replications is None)
    first = load(base, overrides, seed, days)
    # both runs draw from the base scenario's seed unless --seed says otherwise
    second = load(other, overrides, first.simulation.seed, days)
    if replications is not None:
        click.echo(f"simulating both, {replications} replications each...", err=True)
        both = replicated(
            [first, second], replications, jobs, scheduler, sizing_run(year), quiet=quiet
        )
        click.echo(compare_text(*both))
        return
    results = []
    for s in (first, second):
        with ProgressBar(quiet, f"simulating {s.name}" + (" over a year" if year else "")) as bar:
            results.append(sizing_run(year)(s, progress=bar))
        results[-1].costs = costs_of(s, results[-1])
    click.echo(compare_text(*results))
