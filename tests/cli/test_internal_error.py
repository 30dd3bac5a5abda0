"""An internal error is "could not judge" (exit 3, one line), never exit 1, the code of a
failed SLO, and never a traceback unless asked for."""

from __future__ import annotations

import sys

import pytest

import simulator.cli as cli


def _boom(*args: object, **kwargs: object) -> None:
    raise RuntimeError("a bug in camsim\nwith a second line")


def test_an_internal_error_is_one_line_and_exit_3(monkeypatch, capsys) -> None:  # noqa: ANN001
    monkeypatch.setattr(cli.main.commands["validate"], "callback", _boom)
    monkeypatch.setattr(sys, "argv", ["camsim", "validate", "scenarios/strasbourg.yaml"])
    monkeypatch.delenv("CAMSIM_DEBUG", raising=False)
    with pytest.raises(SystemExit) as exit_:
        cli.entry()
    assert exit_.value.code == cli.NOT_JUDGED == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "internal error: RuntimeError: a bug in camsim" in err
    assert "Traceback" not in err
    monkeypatch.setenv("CAMSIM_DEBUG", "1")  # and the traceback when asked for
    with pytest.raises(RuntimeError):
        cli.entry()


def test_an_optional_part_not_installed_names_the_extra_and_exits_2(monkeypatch, capsys) -> None:  # noqa: ANN001
    def missing(*args: object, **kwargs: object) -> None:
        raise ModuleNotFoundError("No module named 'geventhttpclient'", name="geventhttpclient")

    monkeypatch.setattr(cli.main.commands["validate"], "callback", missing)
    monkeypatch.setattr(sys, "argv", ["camsim", "validate", "scenarios/strasbourg.yaml"])
    monkeypatch.delenv("CAMSIM_DEBUG", raising=False)
    with pytest.raises(SystemExit) as exit_:
        cli.entry()
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install 'camsim[load]'" in err


def test_ctrl_c_outside_a_run_is_not_judged_not_a_failed_slo(monkeypatch, capsys) -> None:  # noqa: ANN001
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli.main.commands["validate"], "callback", interrupted)
    monkeypatch.setattr(sys, "argv", ["camsim", "validate", "scenarios/strasbourg.yaml"])
    with pytest.raises(SystemExit) as exit_:
        cli.entry()
    assert exit_.value.code == 3 and "interrupted" in capsys.readouterr().err


@pytest.mark.parametrize(("argv", "code"), [
    (["camsim", "--version"], 0),
    (["camsim", "validate", "--help"], 0),
    (["camsim", "validate", "scenarios/strasbourg.yaml"], 0),
    (["camsim", "validate"], 2),  # a usage mistake: one line (tests/cli/test_usage.py)
    (["camsim", "no-such-command"], 2),
])  # fmt: skip
def test_click_s_own_exits_keep_their_meaning(monkeypatch, argv, code) -> None:  # noqa: ANN001
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as exit_:
        cli.entry()
    assert exit_.value.code == code
