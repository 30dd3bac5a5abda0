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


@pytest.mark.parametrize(("text", "seconds"), [
    ("90", 90.0), ("90s", 90.0), ("10m", 600.0), ("2h", 7200.0), ("1d", 86400.0),
    (" 1.5M ", 90.0), (30, 30.0),
])  # fmt: skip
def test_a_duration_is_written_the_same_way_everywhere(text: object, seconds: float) -> None:
    from simulator.cli.options import Duration

    assert Duration().convert(text, None, None) == seconds
    for command in ("lab", "serve"):
        assert isinstance(_option(command, "--duration").type, Duration)


@pytest.mark.parametrize(("text", "zero_ok"), [
    ("0", False), ("-1m", True), ("10x", True), ("m", True), ("nan", True), ("inf", True),
    ("1e999s", True),
])  # fmt: skip
def test_a_duration_that_is_not_one_is_refused(text: str, zero_ok: bool) -> None:
    from simulator.cli.options import Duration

    with pytest.raises(click.BadParameter, match="such as 90s, 10m or 2h"):
        Duration(zero_ok).convert(text, None, None)
    assert Duration(zero_ok=True).convert("0", None, None) == 0.0
