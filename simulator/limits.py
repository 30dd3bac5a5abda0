"""Bounds on what camsim reads from users' files (scenario, timeline, mapping, ledger): how
many bytes, how deep, how many YAML aliases and how far they expand, numbers finite and of a
sane length, and how much of a value an error message shows.

Every reader maps a `LimitError` into its own one-line error naming the file; the message
here names the limit and where in the text it was passed.
"""

from __future__ import annotations

import json
import math
import re
import reprlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

KiB, MiB, GiB = 1 << 10, 1 << 20, 1 << 30

SCENARIO_BYTES = 4 * MiB
MAPPING_BYTES = 1 * MiB
TIMELINE_BYTES = 1 * GiB
TIMELINE_LINE_BYTES = 64 * KiB
LEDGER_BYTES = 64 * GiB  # SQLite reads pages as asked: the bound is on what a run can write
LEDGER_VALUE_BYTES = 64 * KiB  # one JSON value of the ledger's run facts
MAX_DEPTH = 32  # nesting of mappings/lists (objects/arrays); a scenario needs 6
MAX_DIGITS = 40  # an integer's digits (the scenario's largest field needs 10)
SHOWN_CHARS = 60  # of a value quoted in an error message


class LimitError(ValueError):
    """An input past one of the bounds; the message names the limit (not the file)."""


def size(n: int) -> str:
    """1048576 → '1 MiB'."""
    for unit, scale in (("GiB", GiB), ("MiB", MiB), ("KiB", KiB)):
        if n >= scale and n % scale == 0:
            return f"{n // scale} {unit}"
    return f"{n} bytes"


_repr = reprlib.Repr()
_repr.maxstring = _repr.maxother = SHOWN_CHARS
_repr.maxlist = _repr.maxdict = _repr.maxtuple = _repr.maxset = 6
_repr.maxlevel = 3


def clip(text: str, limit: int = SHOWN_CHARS) -> str:
    """`text` cut to `limit` characters, saying how long it was when cut."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text):,} characters)"


def shown(value: object, limit: int = SHOWN_CHARS) -> str:
    """`repr(value)` cut to about `limit` characters, saying how long it was when cut."""
    if isinstance(value, str | bytes) and len(value) > limit:
        return f"{value[:limit]!r}… ({len(value):,} characters)"
    text = _repr.repr(value)
    return text if len(text) <= limit + 10 else text[:limit] + "…"


def read_bounded(path: str | Path, limit: int, what: str) -> bytes:
    """At most `limit` bytes of `path` (reads limit + 1, so /dev/zero and pipes end too);
    LimitError when there are more, OSError when it cannot be read."""
    with open(path, "rb") as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise LimitError(f"larger than {size(limit)}, the limit for {what}")
    return data


def decode(data: bytes) -> str:
    """UTF-8 text (a BOM is dropped); LimitError naming the line of a bad byte."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise LimitError(f"line {line}: not UTF-8 text (byte {data[exc.start]:#04x})") from None


# --- YAML --------------------------------------------------------------------------------
@dataclass(frozen=True)
class YamlLimits:
    """How deep a document may nest, how many aliases it may use, how many nodes it may
    hold once every alias is expanded."""

    depth: int = MAX_DEPTH
    aliases: int = 100
    nodes: int = 1_000_000


def _at(mark: Any) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "here"


class BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader with the bounds of `YamlLimits`, finite floats, integers of at
    most MAX_DIGITS digits, and impossible dates (2026-02-30) left as text for the schema
    to refuse by field."""

    limits = YamlLimits()

    def __init__(self, stream: str | bytes) -> None:
        super().__init__(stream)
        self._depth = 0
        self._aliases = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > self.limits.aliases:
                at = _at(self.peek_event().start_mark)
                raise LimitError(f"{at}: more than {self.limits.aliases} aliases (*name)")
            return super().compose_node(parent, index)
        self._depth += 1
        try:
            if self._depth > self.limits.depth:
                at = _at(self.peek_event().start_mark)
                raise LimitError(f"{at}: nested deeper than {self.limits.depth} levels")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def get_single_node(self) -> Any:
        node = super().get_single_node()
        if node is not None:
            self._check_expansion(node)
        return node

    def _check_expansion(self, root: yaml.Node) -> None:
        """Nodes and depth with every alias expanded (memoised, iterative: a cycle or an
        alias bomb is refused before anything is built from it)."""
        nodes: dict[int, int] = {}
        depth: dict[int, int] = {}
        ancestors: set[int] = set()
        stack: list[tuple[yaml.Node, bool]] = [(root, False)]
        while stack:
            node, done = stack.pop()
            key = id(node)
            kids = _children(node)
            if done:
                nodes[key] = 1 + sum(nodes[id(k)] for k in kids)
                depth[key] = 1 + max((depth[id(k)] for k in kids), default=0)
                ancestors.discard(key)
                if nodes[key] > self.limits.nodes:
                    raise LimitError(
                        f"{_at(node.start_mark)}: expands to more than {self.limits.nodes:,} "
                        "values (aliases)"
                    )
                if depth[key] > self.limits.depth:
                    raise LimitError(
                        f"{_at(node.start_mark)}: nested deeper than {self.limits.depth} "
                        "levels once aliases are expanded"
                    )
                continue
            if key in nodes:
                continue
            if key in ancestors:
                raise LimitError(f"{_at(node.start_mark)}: an alias refers to its own parent")
            ancestors.add(key)
            stack.append((node, True))
            stack.extend((k, False) for k in kids if id(k) not in nodes)

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        digits = sum(c.isalnum() for c in node.value)
        if digits > MAX_DIGITS:
            raise LimitError(
                f"{_at(node.start_mark)}: an integer of {digits:,} digits (at most {MAX_DIGITS})"
            )
        return super().construct_yaml_int(node)

    def construct_yaml_float(self, node: yaml.ScalarNode) -> float:
        value = super().construct_yaml_float(node)
        if not math.isfinite(value):
            raise LimitError(f"{_at(node.start_mark)}: {shown(node.value)}: numbers must be finite")
        return value

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> Any:
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError:
            return self.construct_scalar(node)


BoundedLoader.add_constructor("tag:yaml.org,2002:int", BoundedLoader.construct_yaml_int)
BoundedLoader.add_constructor("tag:yaml.org,2002:float", BoundedLoader.construct_yaml_float)
BoundedLoader.add_constructor("tag:yaml.org,2002:timestamp", BoundedLoader.construct_yaml_timestamp)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for kv in node.value for n in kv]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def load_yaml(text: str | bytes, loader: type[BoundedLoader] = BoundedLoader) -> Any:
    """One YAML document within the loader's bounds (LimitError or yaml.YAMLError)."""
    ldr = loader(text)
    try:
        return ldr.get_single_data()
    finally:
        ldr.dispose()


# --- JSON --------------------------------------------------------------------------------
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_BRACKETS = re.compile(r"[\[\]{}]")


def json_depth(text: str) -> int:
    """How deep a JSON text nests (without parsing it; strings are skipped)."""
    depth = deepest = 0
    for b in _BRACKETS.findall(_STRING.sub("", text)):
        depth += 1 if b in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def _int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_DIGITS:
        raise LimitError(f"an integer of {len(text.lstrip('-')):,} digits (at most {MAX_DIGITS})")
    return int(text)


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise LimitError(f"{shown(text)}: numbers must be finite")
    return value


def _constant(name: str) -> Any:
    raise LimitError(f"{name} is not a number (numbers must be finite)")


def loads_json(text: str, max_bytes: int, max_depth: int = MAX_DEPTH) -> Any:
    """A JSON value within the bounds, numbers finite (LimitError, or ValueError when it is
    not JSON)."""
    if len(text) > max_bytes:
        raise LimitError(f"longer than {size(max_bytes)}")
    opening = text.count("[") + text.count("{")  # at least as many as the depth: cheap
    if opening > max_depth and json_depth(text) > max_depth:
        raise LimitError(f"nested deeper than {max_depth} levels")
    return json.loads(text, parse_int=_int, parse_float=_float, parse_constant=_constant)
