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
