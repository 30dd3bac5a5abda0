"""Where and how the runs of `run --replications`, `compare` and `sweep` run: the run function
(the scenario's span or the year), the executor (local processes, or a Dask scheduler) and a
line on stderr as runs complete."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from typing import TYPE_CHECKING

import click

from simulator.cli.common import fail

if TYPE_CHECKING:
    from simulator.model.results import Results
    from simulator.scenario import Scenario
    from simulator.sweep import Run

CONNECT_TIMEOUT_S = 10.0
"""How long --scheduler waits for the scheduler to answer before giving up."""

DASK_HINT = "pip install 'camsim[dask]'"


def sizing_run(year: bool) -> Run:
    """The run function: year-aware sizing, or the scenario's own span."""
    from simulator.model.sizing import simulate
    from simulator.model.year import size_year

    return size_year if year else simulate


def replication_options(f):  # type: ignore[no-untyped-def]
    """--replications N, --jobs J and --scheduler ADDRESS."""
    f = click.option(
        "--scheduler", default=None, metavar="ADDRESS",
        help="Run on the workers of this Dask scheduler (e.g. tcp://127.0.0.1:8786; they must "
        "have camsim installed) instead of local processes; needs camsim[dask].",
    )(f)  # fmt: skip
    f = click.option(
        "--jobs", type=click.IntRange(min=1), default=None, metavar="J",
        help="Runs at once, in local processes [default: cores].",
    )(f)  # fmt: skip
    return click.option(
        "--replications", type=click.IntRange(min=2), default=None, metavar="N",
        help="N independent replications (seeds from the scenario's seed tree): each key "
        "figure with its mean and 95 % confidence interval.",
    )(f)  # fmt: skip


def year_flag(f):  # type: ignore[no-untyped-def]
    """--year/--no-year, the same for run, compare and sweep: on unless a span is given."""
    return click.option(
        "--year/--no-year", default=None,
        help="Year-aware sizing: the year at 60 s and its peak day at full resolution; "
        "--no-year: the scenario's own span [default: on, unless --days or --set "
        "simulation.days=… is given].",
    )(f)  # fmt: skip


def span_given(overrides: tuple[str, ...], days: float | None) -> bool:
    """Whether the user set the simulated span (--days, or --set simulation.days=…)."""
    return days is not None or any(o.startswith("simulation.days=") for o in overrides)


def check_year(year: bool | None, overrides: tuple[str, ...], days: float | None) -> None:
    """--year with a span is a contradiction: the year-aware run sets its own."""
    if year and span_given(overrides, days):
        fail("--year with --days or simulation.days: a year-aware run simulates 365 days and "
             "its peak day; give one or the other")  # fmt: skip


def year_of(year: bool | None, overrides: tuple[str, ...], days: float | None) -> bool:
    """Whether the runs size the year: --year/--no-year as given, else unless a span is given
    (refused: --year with a span)."""
    check_year(year, overrides, days)
    return not span_given(overrides, days) if year is None else year


class RunsDone:
    """`N/M runs done` on stderr as runs complete: about 20 lines at most, and the last."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet

    def __call__(self, n: int, total: int) -> None:
        if not self.quiet and (n == total or n * 20 // total != (n - 1) * 20 // total):
            click.echo(f"  {n}/{total} runs done", err=True)


def check_pool(jobs: int | None, scheduler: str | None, runs_here: bool = False) -> None:
    """--jobs and --scheduler are two answers to where the runs run; `runs_here`: a single
    run (no --replications), which runs in this process."""
    if jobs is not None and scheduler is not None:
        fail("--jobs with --scheduler: the scheduler's workers run the runs; give one")
    if runs_here and scheduler is not None:
        fail("--scheduler without --replications: a single run runs here; give --replications N")


@contextmanager
def executor(jobs: int | None, scheduler: str | None) -> Iterator[Executor]:
    """Local worker processes (`jobs` of them, default one per core), or the workers of the
    Dask scheduler at `scheduler` (which must be able to import camsim)."""
    if scheduler is None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # spawned, not forked: a fork of a process with threads can inherit a held lock and hang
        spawn = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=spawn) as pool:
            yield pool
        return
    try:
        from distributed import Client
    except ImportError:
        fail(f"--scheduler: needs Dask's distributed scheduler client: {DASK_HINT}")
    try:
        client = Client(scheduler, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
    except (OSError, ValueError, TimeoutError) as exc:
        fail(f"--scheduler {scheduler}: cannot reach a Dask scheduler there: {exc}")
    with client:
        pool = client.get_executor()
        try:
            yield pool
        finally:
            pool.shutdown(wait=False)


def replicated(
    scenarios: list[Scenario],
    count: int,
    jobs: int | None,
    scheduler: str | None,
    run: Run,
    quiet: bool = False,
) -> list[Results]:
    """Each scenario's first of `count` replications, carrying every key figure's interval;
    all the runs in one pool (local processes, or a Dask scheduler's workers)."""
    from simulator.sweep import run_replicated

    with executor(jobs, scheduler) as pool:
        return run_replicated(scenarios, count, pool, run, RunsDone(quiet))
