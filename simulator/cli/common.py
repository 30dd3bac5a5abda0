"""What every camsim command shares: loading a scenario with overrides, the one-line `fail`,
writing an output file, the --set/--seed/--days options and the progress bar."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn, TypeVar
from urllib.parse import urlsplit

import click

from simulator.scenario import Scenario, ScenarioError, load_scenario

F = TypeVar("F", bound=Callable)


#: Exit codes, the same for every command: pass, an SLO failed, bad input, could not judge
#: (an unusable ledger, a target that did not answer when asked what it recorded, an
#: internal error). A pipeline tells a failed target (1) from a broken run (3).
PASSED, SLO_FAILED, BAD_INPUT, NOT_JUDGED = 0, 1, 2, 3


def fail(message: str) -> NoReturn:
    """Report a user mistake on one line and exit with status 2."""
    click.echo(f"camsim: error: {message}", err=True)
    sys.exit(BAD_INPUT)


class UsageMistake(click.ClickException):
    """A mistake in a command line (a bad option value, a missing argument, an unknown option
    or command), said as `fail` says a mistake: one line, exit 2, not click's usage block."""

    exit_code = BAD_INPUT

    def show(self, file: object = None) -> None:
        click.echo(f"camsim: error: {self.message}", err=True)


def usage_line(exc: click.ClickException, path: str = "camsim") -> str:
    """Click's error as one line naming the option, argument or command, and what it wants;
    `path` the command it was given to, when click does not say."""
    ctx = getattr(exc, "ctx", None)
    path = ctx.command_path if ctx is not None else path
    see = f" (see {path} --help)"
    text = " ".join(exc.message.split()).rstrip(".")
    if text[1:2].islower():  # "Directory 'x' does not exist" reads on after "OUT: "
        text = text[:1].lower() + text[1:]
    if isinstance(exc, click.NoSuchOption):
        maybe = f"; did you mean {' or '.join(exc.possibilities)}?" if exc.possibilities else ""
        return f"{exc.option_name}: no such option of {path}{maybe}{see}"
    if isinstance(exc, click.exceptions.NoSuchCommand):
        names = ", ".join(ctx.command.list_commands(ctx)) if ctx is not None else ""
        return f"{exc.command_name}: no such command; the commands: {names}"
    if isinstance(exc, click.BadParameter):
        param = exc.param
        if exc.param_hint is not None:
            name = exc.param_hint if isinstance(exc.param_hint, str) else "/".join(exc.param_hint)
        elif isinstance(param, click.Option):
            name = max(param.opts, key=len)
        else:
            name = param.human_readable_name if param is not None else path
        if isinstance(exc, click.MissingParameter):
            usage = ctx.get_usage().replace("Usage: ", "usage: ") if ctx is not None else ""
            wants = ""
            if param is not None and param.type.get_missing_message(param=param, ctx=ctx):
                wants = "; " + " ".join(param.type.get_missing_message(param=param, ctx=ctx)
                                        .split()).rstrip(".").lower()  # fmt: skip
            return f"{name}: missing{wants} ({usage})" if usage else f"{name}: missing{wants}"
        return f"{name}: {text}{see}"
    if isinstance(exc, click.BadOptionUsage):
        text = text.removeprefix(f"option {exc.option_name!r} ")
        return f"{exc.option_name}: {text}{see}"
    if isinstance(exc, click.UsageError):
        return f"{path}: {text}{see}"
    return " ".join(exc.format_message().split())


def not_judged(message: str) -> NoReturn:
    """Report on one line that a run could not be judged, and exit with status 3."""
    click.echo(f"camsim: could not judge: {message}", err=True)
    sys.exit(NOT_JUDGED)


def write_file(what: str, path: Path, text: str) -> None:
    """Write `text` to `path` whole or not at all (atomically); a one-line error naming `what`
    (the option or file) when it cannot be written."""
    from simulator.report.files import atomic_write_text

    try:
        atomic_write_text(path, text)
    except OSError as exc:
        fail(f"{what}: cannot write: {exc.strerror or exc}")


def check_host(host: str, what: str = "--host") -> str:
    """An http(s) URL with a host: the one the user named (nothing else is ever contacted)."""
    u = urlsplit(host)
    if u.scheme not in ("http", "https") or not u.hostname:
        fail(f"{what}: expected an http:// or https:// URL naming the target, got {host!r}")
    return host.rstrip("/")


def load(path: str, overrides: tuple[str, ...] = (), seed: int | None = None,
         days: float | None = None) -> Scenario:  # fmt: skip
    """The scenario at `path` with the --set overrides, then --seed and --days, all validated
    as scenario fields (a mistake is one line and exit 2)."""
    try:
        return load_scenario(path, overrides, seed=seed, days=days)
    except ScenarioError as exc:
        fail(str(exc))


def scenario_options(f: F) -> F:
    """--set PATH=VALUE (repeatable), --seed N and --days D: overrides of the scenario."""
    f = click.option(
        "--set", "overrides", multiple=True, metavar="PATH=VALUE",
        help="Override a scenario field, e.g. --set simulation.days=2 (repeatable).",
    )(f)  # fmt: skip
    f = click.option(
        "--days",
        type=float,
        default=None,
        help="Simulated days [default: the scenario's simulation.days].",
    )(f)
    return click.option(
        "--seed",
        type=int,
        default=None,
        help="Random seed [default: the scenario's simulation.seed].",
    )(f)  # type: ignore[return-value]


class ProgressBar:
    """A tqdm bar fed fractions 0..1; shows only on a terminal (or with CAMSIM_PROGRESS=1),
    once a run has taken a second or so."""

    def __init__(self, quiet: bool, label: str) -> None:
        self.quiet, self.label, self.bar = quiet, label, None

    def __enter__(self) -> ProgressBar:
        return self

    def __call__(self, fraction: float) -> None:
        if self.quiet or not sys.stderr.isatty() and os.environ.get("CAMSIM_PROGRESS") != "1":
            return
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=1000, desc=self.label, unit="‰", delay=1.0, leave=False)
        self.bar.update(int(fraction * 1000) - self.bar.n)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()
