"""One definition of each option several commands share (simulator/cli/options.py): the
same name, type, range, default and help wherever it appears."""

from __future__ import annotations

import click
import pytest

from simulator.cli import main
from simulator.cli.options import TARGETS

SHARED = {
    "--speed": ("lab", "loadtest", "serve"),
    "--start-at": ("lab", "loadtest", "serve"),
    "--timeline": ("lab", "loadtest", "serve"),
    "--target": ("lab", "loadtest"),
    "--mapping": ("lab", "loadtest"),
    "--user": ("lab", "loadtest"),
    "--password": ("lab", "loadtest", "verdict"),
}


def _option(command: str, flag: str) -> click.Option:
    (opt,) = [p for p in main.commands[command].params if flag in getattr(p, "opts", ())]
    return opt  # type: ignore[return-value]


def _spec(opt: click.Option) -> tuple:
    kind = opt.type
    bounds = (getattr(kind, "min", None), getattr(kind, "max", None))
    choices = tuple(getattr(kind, "choices", ()))
    return (opt.name, type(kind).__name__, bounds, choices, opt.default, opt.help, opt.envvar,
            opt.required)  # fmt: skip


@pytest.mark.parametrize("flag", sorted(SHARED))
def test_a_shared_option_is_the_same_in_every_command(flag: str) -> None:
    specs = {command: _spec(_option(command, flag)) for command in SHARED[flag]}
    assert len(set(specs.values())) == 1, specs


def test_the_speed_goes_as_far_everywhere_and_the_targets_are_the_factorys() -> None:
    from simulator.targets.factory import TARGETS as ADAPTERS

    assert _option("lab", "--speed").type.max == 1e6  # type: ignore[attr-defined]
    assert TARGETS == ADAPTERS
