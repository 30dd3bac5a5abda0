"""`camsim sweep`: a scenario run at every point of a grid of field values."""

from __future__ import annotations

from pathlib import Path

import click

from simulator.cli.common import fail, load, scenario_options, write_file
from simulator.cli.runs import (
    RunsDone,
    check_pool,
    executor,
    replication_options,
    sizing_run,
    year_flag,
    year_of,
)


def _fields_given(overrides: tuple[str, ...], seed: int | None, days: float | None) -> set[str]:
    """The fields --set, --seed and --days fix for every point."""
    given = {o.partition("=")[0].strip() for o in overrides}
    given |= {"simulation.seed"} if seed is not None else set()
    return given | ({"simulation.days"} if days is not None else set())


def _output(option: str, path: Path | None) -> None:
    if path is not None and path.is_dir():
        fail(f"{option} {path}: is a directory; give a file name")


def _write(option: str, path: Path, text: str) -> None:
    write_file(f"{option} {path}", path, text)
    click.echo(f"wrote {path}")


@click.command()
@click.argument("scenario", type=click.Path(path_type=str))
@click.option(
    "--vary", "vary", multiple=True, required=True, metavar="PATH=V1,V2,...",
    help="A field to sweep and its values, e.g. operators.monitors_each=2,4,6,9. Repeat it "
    "for a grid: every combination, the first --vary varying slowest.",
)  # fmt: skip
@replication_options
@year_flag
@click.option(
    "--csv", "csv_path", type=click.Path(path_type=Path), default=None,
    help="Also write the figures to this CSV file, one row per point.",
)  # fmt: skip
@click.option(
    "--html", "html_path", type=click.Path(path_type=Path), default=None,
    help="Also write an HTML page plotting each key figure against the swept values.",
)  # fmt: skip
@click.option(
    "--yes", is_flag=True,
    help="Run a grid over the limit of runs (points × replications) instead of stopping.",
)  # fmt: skip
@click.option("--quiet", "-q", is_flag=True, help="No progress lines.")
@scenario_options
def sweep(
    scenario: str,
    vary: tuple[str, ...],
    replications: int | None,
    jobs: int | None,
    scheduler: str | None,
    year: bool | None,
    csv_path: Path | None,
    html_path: Path | None,
    yes: bool,
    quiet: bool,
    overrides: tuple[str, ...],
    seed: int | None,
    days: float | None,
) -> None:
    """Run a scenario at every point of a grid of field values.

    Runs SCENARIO at every point (one --vary: one field; several: every combination), all
    with the scenario's seed, and tabulates the key figures: storage, servers, the busiest
    link, availability and, with operators, the share of incidents seen.
    With --replications, N seeds per point (the same N for every point) and each figure as
    mean ± its 95 % half-width. Each run sizes the year, as `camsim run` does, unless --days
    (or --no-year, or a swept simulation.days) gives the scenario's span."""
    from simulator.report.sweep import sweep_csv, sweep_text
    from simulator.sweep import (
        MAX_RUNS,
        GridError,
        check_size,
        make_grid,
        run_replicated,
        run_sweep,
    )

    try:
        grid = make_grid(vary)
        check_size(grid, replications, limit=None if yes else MAX_RUNS)
    except GridError as exc:
        fail(str(exc))
    clash = sorted(set(grid.fields) & _fields_given(overrides, seed, days))
    if clash:
        fail(f"--vary {clash[0]}: also fixed by --set, --seed or --days; give it one way")
    year = year_of(year, (*overrides, *vary), days)
    check_pool(jobs, scheduler)
    _output("--csv", csv_path)
    _output("--html", html_path)
    points = grid.points
    scenarios = [load(scenario, (*overrides, *grid.overrides(p)), seed, days) for p in points]
    with executor(jobs, scheduler) as pool:  # connected: say what runs
        year_aware = ", year-aware" if year else ""
        click.echo(f"sweeping {' × '.join(grid.fields)}: {grid.size(replications)}{year_aware}...",
                   err=True)  # fmt: skip
        done = RunsDone(quiet)
        if replications is None:
            results = run_sweep(scenarios, pool, sizing_run(year), done)
        else:
            results = run_replicated(scenarios, replications, pool, sizing_run(year), done)
    click.echo(sweep_text(grid.fields, points, results))
    if csv_path is not None:
        _write("--csv", csv_path, sweep_csv(grid.fields, points, results))
    if html_path is not None:
        from simulator.report.sweep_html import render_sweep_html

        _write("--html", html_path, render_sweep_html(grid.fields, points, results))
