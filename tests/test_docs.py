"""The documentation's generated pages are current, and what the README and the site both
say is said the same way."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def _gen():  # noqa: ANN202
    spec = importlib.util.spec_from_file_location("docs_gen", DOCS / "gen.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_pages_are_current() -> None:
    gen = _gen()
    for path, text in gen.pages().items():
        page = DOCS / path
        assert page.is_file(), f"docs/{path} is missing: run `{gen.COMMAND}` to regenerate it"
        assert page.read_text(encoding="utf-8") == text, (
            f"docs/{path} is stale (the code changed): run `{gen.COMMAND}` to regenerate it"
        )


def test_reference_covers_every_command_field_and_kind() -> None:
    from simulator.cli import main
    from simulator.timeline.kinds import KINDS

    cli = (DOCS / "reference" / "cli.md").read_text(encoding="utf-8")
    for name in main.commands:
        assert f"## `camsim {name}`" in cli, name
    timeline = (DOCS / "reference" / "timeline.md").read_text(encoding="utf-8")
    for name in KINDS:
        assert f"### `{name}`" in timeline, name
    scenario = (DOCS / "reference" / "scenario.md").read_text(encoding="utf-8")
    assert "| `retention_days` |" in scenario and "| `on_duty` |" in scenario


def test_every_scenario_field_says_what_it_is() -> None:
    """The reference's description column has no blanks: every field of the scenario's models
    has a description (with its unit, and its source where REFERENCE.md gives one)."""
    from simulator.scenario import Scenario

    blank = [f"{model.__name__}.{name}" for model, _ in _gen()._models(Scenario)
             for name, field in model.model_fields.items() if not field.description]  # fmt: skip
    assert not blank, f"scenario fields without a description: {blank}"


def _section(text: str, heading: str) -> str:
    return re.split(r"\n#+ ", text.split(heading + "\n", 1)[1], maxsplit=1)[0].strip()


def test_exit_codes_read_the_same_in_readme_and_site() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    assert _section(readme, "### Exit codes") == _section(index, "## Exit codes"), (
        "README.md's Exit codes section and docs/index.md's differ: make them the same"
    )


def test_site_is_configured_for_every_page() -> None:
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    pages = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")}
    missing = {p for p in pages if f": {p}\n" not in config}
    assert not missing, f"pages not in mkdocs.yml's nav: {sorted(missing)}"


def test_site_builds_strict(tmp_path: Path) -> None:
    """What .ci/run does: a broken link or anchor in docs/ fails (mkdocs, the docs extra)."""
    mkdocs = Path(sys.executable).with_name("mkdocs")
    if not mkdocs.exists():
        pytest.skip("mkdocs is not installed (pip install '.[docs]')")
    run = subprocess.run(
        [str(mkdocs), "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )  # fmt: skip
    warnings = [line for line in run.stderr.splitlines() if "WARNING" in line]
    assert run.returncode == 0, "\n".join(warnings) or run.stderr[-2000:]
