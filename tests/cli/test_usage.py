"""The command line as a user meets it: a usage mistake in any command is camsim's one line
naming the option, argument or command, exit 2 (never click's usage block); `camsim --help`
lists every command with a whole sentence."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from simulator.cli import main

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = "scenarios/strasbourg.yaml"


def camsim(*args: str) -> subprocess.CompletedProcess:
    """The real `camsim` command (`python -m simulator.cli`, its entry), as a user runs it."""
    env = {**os.environ, "COLUMNS": "80"}
    env.pop("CAMSIM_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "simulator.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)  # fmt: skip


MISTAKES = [  # (argv, what the line names, what it says)
    (["run", SCENARIO, "--replications", "1"], "--replications", "x>=2"),
    (["run", SCENARIO, "--jobs", "0"], "--jobs", "x>=1"),
    (["run"], "SCENARIO", "missing"),
    (["run", SCENARIO, "--bogus"], "--bogus", "no such option"),
    (["run", SCENARIO, "--seed", "abc"], "--seed", "not a valid integer"),
    (["run", SCENARIO, "--out"], "--out", "requires an argument"),
    (["compare", SCENARIO], "OTHER", "missing"),
    (["sweep", SCENARIO], "--vary", "missing"),
    (["serve", SCENARIO, "--auth", "kerberos"], "--auth", "'digest', 'basic'"),
    (["serve", SCENARIO, "--rtsp-port", "70000"], "--rtsp-port", "70000"),
    (["lab", SCENARIO], "--target", "zoneminder, motion, rest"),
    (["loadtest", SCENARIO, "--target", "zm", "--host", "http://x"], "--target", "'zm'"),
    (["verdict", "/no/such/run"], "OUT", "does not exist"),
    (["timeline", SCENARIO, "--speed", "2"], "--speed", "no such option"),
    (["validate", SCENARIO, "extra"], "camsim validate", "unexpected extra argument"),
    (["no-such-command"], "no-such-command", "no such command"),
    (["--bogus"], "--bogus", "no such option"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("argv", "names", "says"), MISTAKES, ids=[" ".join(m[0]) for m in MISTAKES]
)
def test_a_usage_mistake_is_one_line_naming_it_exit_2(argv, names, says) -> None:  # noqa: ANN001
    run = camsim(*argv)
    assert run.returncode == 2, (run.returncode, run.stderr)
    assert run.stdout == ""
    lines = run.stderr.splitlines()
    assert len(lines) == 1, run.stderr  # not click's "Usage: … Try … Error: …" block
    assert lines[0].startswith("camsim: error: ") and names in lines[0] and says in lines[0]
    assert "Usage:" not in run.stderr and "Try '" not in run.stderr


def test_the_same_line_through_the_group_as_through_the_entry() -> None:
    """Tests and tools that call `main` (click's standalone mode) get the same one line."""
    result = CliRunner().invoke(main, ["run", SCENARIO, "--jobs", "0"], prog_name="camsim")
    assert result.exit_code == 2
    assert result.stderr == (
        "camsim: error: --jobs: 0 is not in the range x>=1 (see camsim run --help)\n"
    )


def test_help_lists_every_command_with_a_whole_sentence() -> None:
    run = camsim("--help")
    assert run.returncode == 0, run.stderr
    usage, body = run.stdout.split("\n", 1)  # the usage line's own "[ARGS]..." aside
    assert usage.startswith("Usage: camsim ") and "..." not in body  # click cuts with "..."
    listed = body.split("Commands:\n", 1)[1]
    for name, cmd in main.commands.items():
        short = cmd.get_short_help_str(limit=10_000)
        assert short[:1].isupper() and short.endswith("."), (name, short)
        assert len(short) <= 66, f"{name}: a short help that fits one line of --help: {short}"
        assert " ".join(short.split()) in " ".join(listed.split()), name


def test_help_is_whole_on_a_narrow_terminal() -> None:
    result = CliRunner().invoke(main, ["--help"], terminal_width=40)
    assert result.exit_code == 0 and "..." not in result.output.split("\n", 1)[1]


@pytest.mark.parametrize("name", sorted(main.commands))
def test_every_command_s_help_opens(name: str) -> None:
    result = CliRunner().invoke(main, [name, "--help"], prog_name="camsim")
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Usage: camsim {name} ")
