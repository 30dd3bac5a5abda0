"""Sizing commands: `camsim validate`, `run`, `compare` and `sweep`."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from simulator.cli.common import Progress, fail, load, scenario_options

if TYPE_CHECKING:
    from simulator.model.results import Results
    from simulator.scenario import Scenario
    from simulator.sweep import Run


def replication_options(f):  # type: ignore[no-untyped-def]
    """--replications N and --jobs J."""
    f = click.option(
        "--jobs", type=click.IntRange(min=1), default=None,
        help="Runs at once, in local processes [default: cores].",
    )(f)  # fmt: skip
    return click.option(
        "--replications", type=click.IntRange(min=2), default=None, metavar="N",
        help="N independent replications (seeds from the scenario's seed tree): each key "
        "figure with its mean and 95 % confidence interval.",
    )(f)  # fmt: skip


def _replicated(scenarios: list[Scenario], count: int, jobs: int | None, how: Run) -> list[Results]:
    """Each scenario's first of `count` replications, carrying every key figure's interval;
    all the runs in one pool of local processes."""
    from concurrent.futures import ProcessPoolExecutor

    from simulator.sweep import run_replicated

    with ProcessPoolExecutor(max_workers=jobs) as pool:
        return run_replicated(scenarios, count, pool, how)


@click.command()
@click.argument("scenario", type=click.Path(path_type=str))
@scenario_options
def validate(
    scenario: str, overrides: tuple[str, ...], seed: int | None, days: float | None
) -> None:
    """Check a scenario file (and what `camsim serve` can serve) and print what it describes."""
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
    help="Directory for report.json, CSVs and report.html [default: out/<scenario name>].",
)  # fmt: skip
@scenario_options
@click.option(
    "--year/--no-year", default=None,
    help="Year-aware sizing: the year at 60 s and its peak day at full resolution "
    "[default: on, unless --days or --set simulation.days=… is given].",
)  # fmt: skip
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
    quiet: bool,
) -> None:
    """Simulate SCENARIO and report storage, servers, link loads and recording availability
    (and, with an `operators` section, the share of incidents the operators see). By default
    the sizing holds for the whole year: the retention window that stores the most and the
    year's peak day; with --days (or --no-year), the scenario's own span."""
    from simulator.model.sizing import simulate
    from simulator.model.year import size_year
    from simulator.report import summary_text, write_report

    s = load(scenario, overrides, seed, days)
    out = out_dir if out_dir is not None else Path("out") / Path(scenario).stem
    if out.exists() and not out.is_dir():
        fail(f"--out {out}: exists and is not a directory")
    if year is None:
        year = days is None and not any(o.startswith("simulation.days=") for o in overrides)
    label = f"{s.camera_count} cameras × " + ("a year" if year else f"{s.simulation.days:g} d")
    started = time.perf_counter()
    how = size_year if year else simulate
    if replications is None:
        with Progress(quiet, f"simulating {label}") as bar:
            results = how(s, progress=bar)
    else:
        click.echo(f"simulating {label}, {replications} replications...", err=True)
        (results,) = _replicated([s], replications, jobs, how)
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
@replication_options
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def compare(
    base: str,
    other: str,
    overrides: tuple[str, ...],
    seed: int | None,
    days: float | None,
    replications: int | None,
    jobs: int | None,
    quiet: bool,
) -> None:
    """Simulate BASE and OTHER (e.g. an expansion) with the same seed and compare them;
    --set, --seed and --days apply to both. With --replications, both run the same N seeds
    and each difference comes with its paired confidence interval."""
    from simulator.model.sizing import simulate
    from simulator.report.compare import compare_text

    first = load(base, overrides, seed, days)
    # both runs draw from the base scenario's seed unless --seed says otherwise
    second = load(other, overrides, first.simulation.seed, days)
    if replications is not None:
        click.echo(f"simulating both, {replications} replications each...", err=True)
        click.echo(compare_text(*_replicated([first, second], replications, jobs, simulate)))
        return
    results = []
    for s in (first, second):
        with Progress(quiet, f"simulating {s.name}") as bar:
            results.append(simulate(s, progress=bar))
    click.echo(compare_text(*results))


@click.command()
@click.argument("scenario", type=click.Path(path_type=str))
@click.option(
    "--vary", required=True, metavar="PATH=V1,V2,...",
    help="The field to sweep and its values, e.g. operators.monitors_each=2,4,6,9.",
)  # fmt: skip
@replication_options
@click.option(
    "--csv", "csv_path", type=click.Path(path_type=Path, dir_okay=False), default=None,
    help="Also write the figures to this CSV file.",
)  # fmt: skip
@scenario_options
def sweep(
    scenario: str,
    vary: str,
    replications: int | None,
    jobs: int | None,
    csv_path: Path | None,
    overrides: tuple[str, ...],
    seed: int | None,
    days: float | None,
) -> None:
    """Run SCENARIO once for each value of one field, with the same seed, and tabulate the
    key figures: storage, servers, the busiest link, availability and, with operators, the
    share of incidents seen. With --replications, N seeds per value (the same N for every
    value) and each figure as mean ± its 95 % half-width."""
    from concurrent.futures import ProcessPoolExecutor

    from simulator.report.sweep import sweep_csv, sweep_text
    from simulator.sweep import run_replicated, run_sweep, split_values

    name, sep, raw = vary.partition("=")
    field, values = name.strip(), split_values(raw)
    if not sep or not field or not values:
        fail(f"--vary {vary!r}: expected PATH=V1,V2,..., e.g. operators.monitors_each=2,4,6")
    runs = [load(scenario, (*overrides, f"{field}={v}"), seed, days) for v in values]
    click.echo(f"sweeping {field} over {len(values)} values...", err=True)
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        if replications is None:
            results = run_sweep(runs, pool)
        else:
            results = run_replicated(runs, replications, pool)
    click.echo(sweep_text(field, values, results))
    if csv_path is not None:
        from simulator.report._atomic import atomic_write_text

        try:
            atomic_write_text(csv_path, sweep_csv(field, values, results))
        except OSError as exc:
            fail(f"--csv {csv_path}: cannot write: {exc.strerror or exc}")
        click.echo(f"wrote {csv_path}")
