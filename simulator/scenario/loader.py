"""Reading scenario files, applying `--set path=value` overrides, and one-line errors."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from simulator.limits import (
    SCENARIO_BYTES,
    BoundedLoader,
    LimitError,
    clip,
    decode,
    load_yaml,
    read_bounded,
    shown,
)
from simulator.scenario.schema import Scenario


class _Loader(BoundedLoader):
    """YAML 1.2 booleans: only true/false, so `mode: off` and `country: NO` stay strings;
    within the bounds of `simulator.limits` (depth, aliases, finite numbers)."""


_Loader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for key, resolvers in BoundedLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _parse(text: str) -> Any:
    return load_yaml(text, _Loader)


class ScenarioError(ValueError):
    """A user mistake in a scenario: one line naming the file, the field and what is allowed."""


def load_scenario(
    path: str | Path,
    overrides: Iterable[str] = (),
    *,
    seed: int | None = None,
    days: float | None = None,
) -> Scenario:
    """Read, override and validate a scenario file: the `overrides` (`--set path=value`),
    then `seed` and `days` as `simulation.seed` and `simulation.days`, each validated as the
    field it sets."""
    path = Path(path)
    try:
        raw = read_bounded(path, SCENARIO_BYTES, "a scenario")
    except FileNotFoundError:
        raise ScenarioError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ScenarioError(f"{path}: is a directory, expected a YAML scenario file") from None
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except LimitError as exc:
        raise ScenarioError(f"{path}: {exc}") from None
    try:
        text = decode(raw)
    except LimitError as exc:
        raise ScenarioError(f"{path}: cannot read: {exc}") from None
    try:
        data = _parse(text)
    except LimitError as exc:
        raise ScenarioError(f"{path}: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ScenarioError(f"{path}: YAML syntax error{where}: {problem}") from None
    if not isinstance(data, dict):
        raise ScenarioError(f"{path}: expected a mapping of scenario sections at the top level")
    extra = [f"simulation.seed={seed}"] if seed is not None else []
    extra += [f"simulation.days={days}"] if days is not None else []
    for item in [*overrides, *extra]:
        apply_override(data, item, path)
    return validate(data, path)


def validate(data: dict[str, Any], path: str | Path = "<scenario>") -> Scenario:
    """Validate a parsed scenario mapping; raise ScenarioError with the first problem."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(f"{path}: {_describe(exc, data)}") from None


def apply_override(data: dict[str, Any], item: str, path: str | Path = "<scenario>") -> None:
    """Set `a.b.0.c=value` in a parsed scenario; value is parsed as YAML (`5`, `true`, `[1,2]`)."""
    if "=" not in item:
        raise ScenarioError(
            f"{path}: --set {shown(item)}: expected path=value, e.g. simulation.days=2"
        )
    key, raw = item.split("=", 1)
    parts = [p for p in key.strip().split(".") if p]
    if not parts:
        raise ScenarioError(f"{path}: --set {shown(item)}: empty field path")
    try:
        value = _parse(raw) if raw.strip() else ""
    except LimitError as exc:
        raise ScenarioError(f"{path}: --set {shown(key)}: {exc}") from None
    except yaml.YAMLError:
        value = raw
    node: Any = data
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        where = ".".join(parts[: depth + 1])
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise ScenarioError(
                    f"{path}: --set {clip(key)}: {clip(where)}: index must be 0..{len(node) - 1}"
                )
            idx = int(part)
            if last:
                node[idx] = value
            else:
                node = node[idx]
        elif isinstance(node, dict):
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
        else:
            raise ScenarioError(
                f"{path}: --set {clip(key)}: {clip(where)}: parent is not a section"
            )


def _describe(exc: ValidationError, data: Any) -> str:
    err = exc.errors(include_url=False)[0]
    # a key from the file goes into the line as it is only when printable (else quoted)
    parts = [str(q) for q in err["loc"]]
    loc = ".".join(q if q.isprintable() else shown(q) for q in parts)
    kind = err["type"]
    if kind == "extra_forbidden":
        parent_loc, name = err["loc"][:-1], err["loc"][-1]
        allowed = ", ".join(_fields_at(parent_loc, data))
        return f"{clip(loc)}: unknown key {shown(name)} (allowed: {allowed})"
    if kind == "missing":
        return f"{clip(loc)}: required field is missing"
    msg = re.sub(r" or instance of \w+", "", err["msg"].removeprefix("Value error, "))
    if kind == "value_error" and msg.split(":", 1)[0].count(".") >= 1 and not loc:
        return clip(msg, 300)  # model-level checks already name their field
    got = err.get("input")
    plain = isinstance(got, dict | list) or got is None or shown(got) in msg
    extra = "" if plain else f" (got {shown(got)})"
    return f"{clip(loc or 'scenario')}: {clip(msg, 300)}{extra}"


def _fields_at(loc: tuple[Any, ...], data: Any) -> list[str]:
    """Allowed keys of the schema section at `loc`."""
    model: type[BaseModel] = Scenario
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(str(part))
        if field is None:
            return []
        model = _model_of(field.annotation)
        if model is None:
            return []
    return sorted(model.model_fields)


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_of(arg)
        if found is not None:
            return found
    return None
