"""The floors: every folder of simulator/, and loadtests/, imports only the floors below it.

test_imports.py finds import circles between modules; this test holds the folders to one
order, so a floor that calls up fails here even where it makes no circle. Every import is
read, at module level and inside functions (and under TYPE_CHECKING): an import that waits
for a call to run still ties the floors. An import that must still go up for a while is
listed in EXCEPTIONS with the issue that takes it away (none is, now).

To see one floor's imports: `grep -rn "^ *\\(from\\|import\\) " simulator/<floor>`.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).parents[1]

# From the ground up: a floor imports the floors before it in this list, never those after.
FLOORS = [
    "simulator",  # the package itself: its version
    "simulator.limits",  # the bounds on what camsim reads
    "simulator.timeline",  # the Event and the links it names, the kinds, JSON Lines, the clock
    "simulator.scenario",  # the scenario's schema (its defaults from the timeline's kinds)
    "simulator.model",  # the City, the sizing model, and the timeline the model emits
    "simulator.streams",  # the synthetic cameras, replaying the timeline
    "simulator.onvif",  # the cameras as ONVIF devices (SOAP, snapshots, discovery)
    "simulator.targets",  # the systems under test, an adapter each (the lab's and the load's)
    "simulator.lab",  # the lab: the streams and the load against a target, its verdict
    "simulator.report",  # writes the model's Results and the lab's Verdict
    "simulator.sweep",  # runs the model over a grid of scenarios
    "loadtests",  # Locust: depends on simulator/, and only the CLI imports it
    "simulator.cli",  # the top floor: the commands, which wire all the rest
]

# (importer, imported module or package) → why it still goes up, and what takes it away.
# The CLI, the top floor, may import loadtests: `cli/load.py` imports `loadtests.plan` from
# above, which is no exception.
# (Issue 19 took the last one away: the lab's step load reads a timeline's actions through
# simulator/timeline/families.py, below both the lab and the load.)
EXCEPTIONS: dict[tuple[str, str], str] = {}


def _floor(module: str) -> int | None:
    """The index of `module`'s floor in FLOORS (the longest that holds it), None outside."""
    held = [i for i, floor in enumerate(FLOORS) if (module + ".").startswith(floor + ".")]
    return max(held, key=lambda i: len(FLOORS[i]), default=None)


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(name: str, source: str, is_package: bool = False) -> list[tuple[int, str]]:
    """Every (line, dotted name) module `name` imports, at any depth: `from a import b` gives
    a.b, a relative import is made absolute, `importlib.import_module("a")` gives a."""
    package = name if is_package else name.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(up + ([node.module] if node.module else []))
            out += [(node.lineno, f"{base}.{a.name}") for a in node.names]
        elif (
            isinstance(node, ast.Call)
            and (
                (isinstance(node.func, ast.Name) and node.func.id == "__import__")
                or (isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
            )
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            out.append((node.lineno, node.args[0].value))
    return out


def _sources() -> list[Path]:
    return sorted(p for top in ("simulator", "loadtests") for p in (ROOT / top).rglob("*.py"))


def _upward() -> dict[tuple[str, str], list[str]]:
    """(importer, the exception's key it would match, else the imported name) → its lines."""
    found: dict[tuple[str, str], list[str]] = {}
    for path in _sources():
        rel = path.relative_to(ROOT).as_posix()
        here = _floor(_module(path))
        source = path.read_text(encoding="utf-8")
        for line, name in _imported(_module(path), source, path.name == "__init__.py"):
            there = _floor(name)
            if here is None or there is None or there <= here:
                continue
            key = next(
                (k for k in EXCEPTIONS if k[0] == rel and (name + ".").startswith(k[1] + ".")),
                (rel, name),
            )
            found.setdefault(key, []).append(f"{rel}:{line} imports {name} "
                                             f"({FLOORS[here]} -> {FLOORS[there]})")  # fmt: skip
    return found


def test_every_module_is_on_a_floor() -> None:
    assert [str(p) for p in _sources() if _floor(_module(p)) is None] == []


def test_no_floor_imports_a_floor_above_it() -> None:
    up = [line for key, lines in _upward().items() if key not in EXCEPTIONS for line in lines]
    assert not up, (
        "an import from a floor to one above it (import from below instead, move the code, "
        "or list it in EXCEPTIONS with the issue that takes it away):\n  " + "\n  ".join(up)
    )


def test_every_exception_is_still_needed() -> None:
    stale = set(EXCEPTIONS) - set(_upward())
    assert not stale, f"no longer imported: take these out of EXCEPTIONS: {sorted(stale)}"


def test_the_floors_read_every_kind_of_import() -> None:
    """The test's own reading: inside a function, relative, and through importlib."""
    source = (
        "import importlib\n"
        "from . import city\n"
        "from ..report import text\n"
        "def f():\n"
        "    from simulator.cli.common import fail\n"
        "    return importlib.import_module('loadtests.plan')\n"
    )
    names = {name for _, name in _imported("simulator.model.example", source)}
    assert {"simulator.model.city", "simulator.report.text", "simulator.cli.common.fail",
            "loadtests.plan"} <= names  # fmt: skip
    assert [FLOORS[_floor(n)] for n in sorted(names - {"importlib"})] == [
        "loadtests", "simulator.cli", "simulator.model", "simulator.report",
    ]  # fmt: skip
