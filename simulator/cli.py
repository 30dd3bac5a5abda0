"""The `camsim` command line: parses arguments, calls the model, hands results to reporting."""

from __future__ import annotations

import sys
import time
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


days_option = click.option(
    "--days", type=click.FloatRange(min=0, min_open=True), default=None, help="Simulated days."
)


def _with(overrides: tuple[str, ...], seed: int | None, days: float | None) -> tuple[str, ...]:
    """The --set overrides, then --seed and --days as overrides of the scenario."""
    extra = [*overrides]
    extra += [f"simulation.seed={seed}"] if seed is not None else []
    extra += [f"simulation.days={days}"] if days is not None else []
    return tuple(extra)


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
@click.argument("scenario", type=click.Path(path_type=str))
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


@main.command()
@click.argument("scenario", type=click.Path(path_type=str))
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Directory for report.json, CSVs and report.html [default: out/<scenario name>].",
)
@click.option("--seed", type=click.IntRange(min=0), default=None, help="Override the seed.")
@days_option
@set_option
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def run(
    scenario: str,
    out_dir: Path | None,
    seed: int | None,
    days: float | None,
    overrides: tuple[str, ...],
    quiet: bool,
) -> None:
    """Simulate SCENARIO and report storage, servers, link loads and recording availability
    (and, with an `operators` section, the share of incidents the operators see)."""
    from simulator.model.world import simulate
    from simulator.report import summary_text, write_report

    s = _load(scenario, _with(overrides, seed, days))
    out = out_dir if out_dir is not None else Path("out") / Path(scenario).stem
    if out.exists() and not out.is_dir():
        fail(f"--out {out}: exists and is not a directory")
    started = time.perf_counter()
    with _progress(quiet, f"simulating {s.camera_count} cameras × {s.simulation.days:g} d") as bar:
        results = simulate(s, progress=bar)
    elapsed = time.perf_counter() - started
    click.echo(summary_text(results))
    try:
        paths = write_report(results, out)
    except OSError as exc:
        fail(f"--out {out}: cannot write the report: {exc.strerror or exc}")
    click.echo(f"simulated in {elapsed:.1f} s; wrote {', '.join(p.name for p in paths)} to {out}/")


@main.command()
@click.argument("base", type=click.Path(path_type=str))
@click.argument("other", type=click.Path(path_type=str))
@click.option("--seed", type=click.IntRange(min=0), default=None, help="Seed for both runs.")
@days_option
@set_option
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def compare(
    base: str,
    other: str,
    seed: int | None,
    days: float | None,
    overrides: tuple[str, ...],
    quiet: bool,
) -> None:
    """Simulate BASE and OTHER (e.g. an expansion) with the same seed and compare them;
    --set applies to both."""
    from simulator.model.world import simulate
    from simulator.report.compare import compare_text

    extra = _with(overrides, seed, days)
    first = _load(base, extra)
    if seed is None:  # both runs draw from the base scenario's seed
        extra += (f"simulation.seed={first.simulation.seed}",)
    second = _load(other, extra)
    results = []
    for s in (first, second):
        with _progress(quiet, f"simulating {s.name}") as bar:
            results.append(simulate(s, progress=bar))
    click.echo(compare_text(*results))


@main.command()
@click.argument("scenario", type=click.Path(path_type=str))
@click.option(
    "--vary",
    required=True,
    metavar="PATH=V1,V2,...",
    help="The field to sweep and its values, e.g. operators.monitors_each=2,4,6,9.",
)
@click.option("--seed", type=click.IntRange(min=0), default=None, help="Seed for every run.")
@days_option
@click.option(
    "--jobs", type=click.IntRange(min=1), default=None, help="Runs at once [default: cores]."
)
@click.option(
    "--csv",
    "csv_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Also write the figures to this CSV file.",
)
@set_option
def sweep(
    scenario: str,
    vary: str,
    seed: int | None,
    days: float | None,
    jobs: int | None,
    csv_path: Path | None,
    overrides: tuple[str, ...],
) -> None:
    """Run SCENARIO once for each value of one field, with the same seed, and tabulate the
    key figures: storage, servers, the busiest link, availability and, with operators, the
    share of incidents seen."""
    from concurrent.futures import ProcessPoolExecutor

    from simulator.report.sweep import sweep_csv, sweep_text
    from simulator.sweep import run_sweep, split_values

    name, sep, raw = vary.partition("=")
    field, values = name.strip(), split_values(raw)
    if not sep or not field or not values:
        fail(f"--vary {vary!r}: expected PATH=V1,V2,..., e.g. operators.monitors_each=2,4,6")
    extra = _with(overrides, seed, days)
    runs = [_load(scenario, (*extra, f"{field}={v}")) for v in values]  # all checked first
    click.echo(f"sweeping {field} over {len(values)} values...", err=True)
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        results = run_sweep(runs, pool)
    click.echo(sweep_text(field, values, results))
    if csv_path is not None:
        from simulator.report._atomic import atomic_write_text

        try:
            atomic_write_text(csv_path, sweep_csv(field, values, results))
        except OSError as exc:
            fail(f"--csv {csv_path}: cannot write: {exc.strerror or exc}")
        click.echo(f"wrote {csv_path}")


class _progress:
    """A tqdm bar fed fractions 0..1; shows only once a run has taken a second or so."""

    def __init__(self, quiet: bool, label: str) -> None:
        self.quiet, self.label, self.bar = quiet, label, None

    def __enter__(self) -> _progress:
        return self

    def __call__(self, fraction: float) -> None:
        if self.quiet or not sys.stderr.isatty() and not _force_progress():
            return
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=1000, desc=self.label, unit="‰", delay=1.0, leave=False)
        self.bar.update(int(fraction * 1000) - self.bar.n)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()


def _force_progress() -> bool:
    import os

    return os.environ.get("CAMSIM_PROGRESS") == "1"


from simulator.streams.cli import serve, timeline  # noqa: E402  (needs the helpers above)

main.add_command(serve)
main.add_command(timeline)
