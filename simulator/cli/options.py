"""The options several commands share, each defined once: the replay's clock (--speed,
--start-at), the timeline to replay (--timeline), the system under test (--target,
--mapping, --user, --password), and how a length of time is written (Duration)."""

from __future__ import annotations

import click


class Duration(click.ParamType):
    """A length of time as `90`, `90s`, `10m`, `2h` or `1d` (a bare number is seconds), in
    seconds; above zero, or from zero with `zero_ok`."""

    name = "TIME"

    def __init__(self, zero_ok: bool = False) -> None:
        self.zero_ok = zero_ok

    def convert(self, value: object, param: click.Parameter | None,
                ctx: click.Context | None) -> float:  # fmt: skip
        if isinstance(value, int | float):
            seconds = float(value)
        else:
            text = str(value).strip().lower()
            scale = UNITS.get(text[-1:])
            try:
                seconds = float(text[:-1] if scale else text) * (scale or 1)
            except ValueError:
                seconds = float("nan")
        if not (seconds >= 0 if self.zero_ok else seconds > 0) or seconds == float("inf"):
            least = "a time of 0 or more," if self.zero_ok else "a positive time"
            self.fail(f"{value!r}: expected {least} such as 90s, 10m or 2h", param, ctx)
        return seconds


UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

#: The targets camsim drives (simulator/targets/factory.py's TARGETS, kept here so that
#: `camsim --help` imports no adapter; tests/cli/test_options.py holds them equal).
TARGETS = ("zoneminder", "motion", "rest")

speed_option = click.option(
    "--speed", default=1.0, show_default=True, type=click.FloatRange(min=1e-3, max=1e6),
    help="Timeline seconds per wall-clock second.",
)  # fmt: skip
start_option = click.option(
    "--start-at", default=0.0, type=click.FloatRange(min=0), help="Timeline second to start at."
)
timeline_option = click.option(
    "--timeline", "timeline_file", type=click.Path(dir_okay=False, path_type=str),
    help="Replay this JSON Lines timeline instead of the scenario's.",
)  # fmt: skip
target_option = click.option(
    "--target", "target_kind", type=click.Choice(TARGETS), required=True,
    help="The system under test's adapter.",
)  # fmt: skip
mapping_option = click.option(
    "--mapping", type=click.Path(dir_okay=False, path_type=str),
    help="--target rest: the REST mapping (YAML, see simulator/targets/mappings).",
)  # fmt: skip
user_option = click.option("--user", help="The target's user (when its API has authentication on).")
password_option = click.option(
    "--password", envvar="CAMSIM_TARGET_PASSWORD",
    help="The target's password (or $CAMSIM_TARGET_PASSWORD).",
)  # fmt: skip
