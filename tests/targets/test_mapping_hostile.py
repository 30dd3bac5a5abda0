"""Hostile REST mappings: each is one MappingError naming the file and the field or limit
(through the CLI: one line, exit 2), never a traceback, never expanded or read unbounded
(issue 16, "Files")."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from simulator.cli import main
from simulator.targets import FastClient
from simulator.targets.mapping import MappingError, load_mapping
from simulator.targets.rest import RestTarget

DATA = Path(__file__).parents[1] / "data"
GOOD = """
name: demo
actions:
  health: {path: ok}
"""
AUTH = """
name: demo
auth:
  login: {method: POST, path: login, form: {u: "{user}", p: "{password}"}, result: tok}
actions:
  health: {path: "ok", headers: {X-Token: "{token}"}}
"""


def bomb(levels: int) -> str:
    """A `json:` body whose aliases expand to 9 ** levels strings (a few hundred bytes)."""
    lines = ["name: demo", "x0: &x0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"x{i}: &x{i} [{', '.join([f'*x{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "\n".join(lines) + f"\nactions:\n  health: {{path: ok, json: *x{levels - 1}}}\n"


def error(tmp_path: Path, text: str | bytes) -> str:
    path = tmp_path / "bad.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(MappingError) as err:
        load_mapping(path)
    message = str(err.value)
    assert message.startswith(f"{path}: "), message[:300]
    assert "\n" not in message and len(message) < 400, message[:500]
    return message


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (GOOD.replace("actions:", "timezone: Mars/Olympus\nactions:"),
         "timezone: unknown time zone 'Mars/Olympus'"),
        (GOOD.replace("actions:", "timezone: ../../etc/passwd\nactions:"), "unknown time zone"),
        (GOOD.replace("actions:", 'servers: {other: "{scheme}://{nope}:9"}\nactions:'),
         "servers.other: unknown placeholder {nope} (allowed here: {host}, {scheme})"),
        (GOOD.replace("{path: ok}", '{path: "{target_id:>999999999}"}'),
         "format specs and conversions are not allowed"),
        (GOOD.replace("{path: ok}", '{path: "{target_id!r}"}'), "are not allowed"),
        (GOOD.replace("{path: ok}", "{path: ok, json: " + "[" * 5000 + "]" * 5000 + "}"),
         "nested deeper than 32"),
        (GOOD.replace("{path: ok}", "{path: ok, json: 1" + "0" * 5000 + "}"), "5,001 digits"),
        (GOOD.replace("{path: ok}", "{path: ok, json: .nan}"), "numbers must be finite"),
        (GOOD.replace("name: demo", "name: " + "d" * 1_100_000), "larger than 1 MiB"),
        (GOOD.replace("{path: ok}", "{path: ok, server: " + "s" * 100_000 + "}"),
         "(100,000 characters)"),
        (bomb(6), "expands to more than 100,000 values"),
        (bomb(9), "expands to more than 100,000 values"),
    ],
    ids=["Mars", "path", "servers", "format spec", "conversion", "deep", "digits", "nan",
         "size", "echo", "bomb 9^6", "bomb 9^9"],
)  # fmt: skip
def test_a_hostile_mapping_is_one_line_naming_the_file(
    tmp_path: Path, text: str, fragment: str
) -> None:
    assert fragment in error(tmp_path, text)


def test_invalid_utf8_names_the_line(tmp_path: Path) -> None:
    assert "line 2: not UTF-8" in error(tmp_path, GOOD.encode().replace(b"demo", b"d\xffmo"))


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_dev_zero_is_read_only_up_to_the_limit() -> None:
    with pytest.raises(MappingError, match=r"^/dev/zero: larger than 1 MiB"):
        load_mapping("/dev/zero")


def test_a_mapping_whose_actions_use_the_token_needs_a_user(tmp_path: Path) -> None:
    path = tmp_path / "auth.yaml"
    path.write_text(AUTH)
    load_mapping(path)  # the file itself is fine
    with pytest.raises(MappingError) as err:
        RestTarget(FastClient(), "http://127.0.0.1:9", path)
    assert str(err.value) == (
        f"{path}: actions.health.headers.X-Token uses {{token}}, which needs a login: "
        "give --user (and --password or $CAMSIM_TARGET_PASSWORD)"
    )
    RestTarget(FastClient(), "http://127.0.0.1:9", path, user="op", password="pw")
    no_token = tmp_path / "optional.yaml"  # a login used only when a user is given
    no_token.write_text(AUTH.replace('headers: {X-Token: "{token}"}', "query: {}"))
    RestTarget(FastClient(), "http://127.0.0.1:9", no_token)


@pytest.mark.parametrize("case", ["auth", "timezone", "servers"])
def test_through_camsim_loadtest_each_is_one_line_and_exit_2(tmp_path: Path, case: str) -> None:
    text = {
        "auth": AUTH,
        "timezone": GOOD.replace("actions:", "timezone: Mars/Olympus\nactions:"),
        "servers": GOOD.replace("actions:", 'servers: {other: "{scheme}://{nope}:9"}\nactions:'),
    }[case]
    path = tmp_path / "m.yaml"
    path.write_text(text)
    args = ["loadtest", str(DATA / "lab-load.yaml"), "--target", "rest", "--mapping", str(path),
            "--host", "http://127.0.0.1:9", "--run-time", "1s"]  # fmt: skip
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 2, (r.exit_code, r.output[-500:], r.exception)
    assert len(r.stderr.splitlines()) == 1 and str(path) in r.stderr, r.stderr[-500:]
