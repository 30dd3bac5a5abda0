"""The `camsim` command line (click): shared options in `common`, one module per group of
commands. It parses arguments, calls the model and the executors, hands results to reporting."""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from simulator import __version__
from simulator.cli.common import BAD_INPUT, NOT_JUDGED, PASSED, UsageMistake, fail, usage_line
from simulator.cli.lab import lab, verdict
from simulator.cli.load import loadtest
from simulator.cli.sizing import compare, run, validate
from simulator.cli.streams import serve, timeline
from simulator.cli.sweep import sweep


def _one_line(exc: click.ClickException, path: str = "camsim") -> click.ClickException:
    """Click's error as camsim's one line (exit 2), `path` the command it was given to; its
    help shown with no command, as is."""
    if isinstance(exc, UsageMistake | click.exceptions.NoArgsIsHelpError):
        return exc
    mistake = UsageMistake(usage_line(exc, path))
    mistake.__cause__ = exc
    return mistake


class Camsim(click.Group):
    """camsim's group of commands: every usage mistake, in any command, is camsim's one line
    and exit 2 (not click's usage block), and the list of commands shows each one's first
    sentence whole (click cuts it to fit)."""

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        try:
            return super().make_context(*args, **kwargs)
        except click.ClickException as exc:
            raise _one_line(exc) from exc

    def resolve_command(self, ctx: click.Context, args: list[str]) -> Any:
        name, cmd, rest = super().resolve_command(ctx, args)
        ctx.meta["camsim.command"] = name  # what a mistake in its own options is said of
        return name, cmd, rest

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.ClickException as exc:
            name = ctx.meta.get("camsim.command")
            raise _one_line(exc, f"{ctx.command_path} {name}" if name else "camsim") from exc

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, cmd.get_short_help_str(limit=10_000))
                for name in self.list_commands(ctx)
                if (cmd := self.get_command(ctx, name)) is not None and not cmd.hidden]  # fmt: skip
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=Camsim, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="camsim")
def main() -> None:
    """camsim: simulate and load-test a city's video-surveillance network."""


for command in (validate, run, compare, sweep, timeline, serve, lab, verdict, loadtest):
    main.add_command(command)


#: The optional parts of camsim (pyproject's extras) by the module that is missing without them.
EXTRAS = {"av": "streams", "cv2": "streams", "locust": "load", "gevent": "load",
          "geventhttpclient": "load", "prometheus_client": "load", "dask": "dask",
          "distributed": "dask"}  # fmt: skip


def entry() -> None:
    """The `camsim` command: `main`, with its exits mapped to camsim's codes: a usage mistake
    2, Ctrl-C outside a run that judges what ran 3 (not judged), an internal error one line
    and 3, never 1, the code of a failed SLO. CAMSIM_DEBUG=1 shows the traceback."""
    try:
        code = main(prog_name="camsim", standalone_mode=False)  # its exits are ours to map
    except click.ClickException as exc:  # a usage mistake: one line, exit 2
        _one_line(exc).show()
        sys.exit(BAD_INPUT)
    except (click.Abort, KeyboardInterrupt):  # Ctrl-C where a command does not judge what ran
        click.echo("camsim: interrupted: nothing was judged", err=True)
        sys.exit(NOT_JUDGED)
    except ModuleNotFoundError as exc:  # an optional part not installed: the user's to add
        extra = EXTRAS.get((exc.name or "").split(".")[0])
        if extra is None or os.environ.get("CAMSIM_DEBUG"):
            raise
        click.echo(f"camsim: error: this command needs camsim's {extra} extra ({exc.name} is "
                   f"not installed): pip install 'camsim[{extra}]'", err=True)  # fmt: skip
        sys.exit(BAD_INPUT)
    except Exception as exc:
        if os.environ.get("CAMSIM_DEBUG"):
            raise
        text = str(exc).splitlines()[0][:300] if str(exc) else ""
        click.echo(f"camsim: internal error: {type(exc).__name__}: {text} "
                   "(CAMSIM_DEBUG=1 shows the traceback)", err=True)  # fmt: skip
        sys.exit(NOT_JUDGED)
    sys.exit(code if isinstance(code, int) else PASSED)


__all__ = ["entry", "fail", "main"]
