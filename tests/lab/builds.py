"""Counting what a run's processes build: an audit hook, installed in every process of a run
through sitecustomize (the lab's children inherit PYTHONPATH and the environment), writes a
line for each City and timeline built (`sys.audit("camsim.build", …)` in `City.of` and
`build_timeline`) with the process and the command that built it, and a line per process
once its command is known, so that a child that builds nothing is still seen counting."""

from __future__ import annotations

import json
import os
from pathlib import Path

COUNTER = """
import json, os, sys
if os.environ.get("CAMSIM_BUILDS"):
    _seen = []
    def _write(what, path=os.environ["CAMSIM_BUILDS"]):
        cmd = "locust" if "locust" in sys.argv[0] else sys.argv[1]
        with open(path, "a") as f:
            f.write(json.dumps([os.getpid(), cmd, what]) + "\\n")
    def _count(event, args):
        if not _seen and sys.argv and sys.argv[0] != "-m":  # python -m: set once it runs
            _seen.append(os.getpid())
            _write("process")
        if event == "camsim.build":
            _write(args[0])
    sys.addaudithook(_count)
"""


def counted_env(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """The environment of a run whose processes record what they build, and the record."""
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(COUNTER)
    path = os.pathsep.join(p for p in (str(hooks), os.environ.get("PYTHONPATH")) if p)
    builds = tmp_path / "builds.jsonl"
    return {**os.environ, "PYTHONPATH": path, "CAMSIM_BUILDS": str(builds)}, builds


def record(path: Path) -> list[tuple[int, str, str]]:
    """Every line: (pid, command, "process", "City" or "timeline")."""
    if not path.exists():
        return []
    return [tuple(json.loads(x)) for x in path.read_text().splitlines()]  # type: ignore[misc]


def counted(path: Path) -> set[str]:
    """The commands whose processes counted (every process of the run that ran Python)."""
    return {cmd for _, cmd, what in record(path) if what == "process"}


def built(path: Path) -> list[tuple[int, str, str]]:
    """The builds: (pid, command, "City" or "timeline")."""
    return [line for line in record(path) if line[2] != "process"]


def builds_by(path: Path) -> dict[tuple[str, str], int]:
    """How many of each thing each command built: (command, what) → count."""
    out: dict[tuple[str, str], int] = {}
    for _, cmd, what in built(path):
        out[cmd, what] = out.get((cmd, what), 0) + 1
    return out


#: A lab run, every process's builds: the lab builds the City and the timeline once and hands
#: them over in OUT/run; camsim serve, camsim loadtest and Locust build neither.
ONCE = {("lab", "City"): 1, ("lab", "timeline"): 1}
