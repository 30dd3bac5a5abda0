"""The timeline as JSON Lines: one event per line, checked against the registry on reading."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from simulator.limits import (
    TIMELINE_BYTES,
    TIMELINE_LINE_BYTES,
    LimitError,
    clip,
    decode,
    loads_json,
    shown,
    size,
)
from simulator.timeline.event import LINK_KINDS, Event, LinkId
from simulator.timeline.kinds import kind as kind_of

SUBJECT_FIELDS = ("camera", "district", "link", "server")
FIELDS = {"t", "kind", "params", *SUBJECT_FIELDS}


class TimelineError(ValueError):
    """A timeline file that cannot be replayed: the message names the file and line."""


@dataclass(frozen=True)
class Names:
    """What a replayed timeline may name: the city's cameras, districts, links and servers."""

    cameras: frozenset[str]
    districts: frozenset[str]
    links: frozenset[LinkId]
    servers: frozenset[str]


def write_jsonl(events: Iterable[Event], out: TextIO) -> int:
    """Write events one per line; return how many."""
    n = 0
    for event in events:
        out.write(event.to_json() + "\n")
        n += 1
    return n


def parse_event(line: str, names: Names | None = None) -> Event:
    """One line → Event, checked against the registry (and `names`); raises ValueError.
    Within the bounds of `simulator.limits`: nesting, finite numbers of sane length."""
    try:
        data = loads_json(line, TIMELINE_LINE_BYTES)
    except LimitError:
        raise
    except ValueError as exc:
        raise ValueError(f"not JSON ({getattr(exc, 'msg', exc)})") from None
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    extra = set(data) - FIELDS
    if extra:
        raise ValueError(
            f"unknown field {shown(sorted(extra)[0])} (allowed: {', '.join(sorted(FIELDS))})"
        )
    name = data.get("kind")
    if not isinstance(name, str):
        raise ValueError(f"kind: expected the name of an event kind, got {shown(name)}")
    try:
        k = kind_of(name)
    except ValueError:
        raise ValueError(f"unknown event kind {shown(name)}") from None
    t = data.get("t")
    if isinstance(t, bool) or not isinstance(t, int | float) or not t >= 0:
        raise ValueError(f"t: expected seconds ≥ 0, got {shown(t)}")
    if not math.isfinite(t):
        raise ValueError(f"t: {shown(t)}: numbers must be finite")
    for f in SUBJECT_FIELDS:
        if data.get(f) is not None and not (isinstance(data[f], str) and data[f]):
            raise ValueError(f"{k.name}: {f}: expected a name (text), got {shown(data[f])}")
    named = [f for f in SUBJECT_FIELDS if data.get(f) is not None]
    wanted = [] if k.subject == "city" else [k.subject]
    if named != wanted:
        raise ValueError(
            f"{k.name}: names {' and '.join(named) or 'nothing'}, expected "
            f"{k.subject if wanted else 'nothing (city-wide)'}"
        )
    link = _link(data["link"]) if "link" in named else None
    if names is not None:
        for f, known in (
            ("camera", names.cameras), ("district", names.districts), ("server", names.servers)
        ):  # fmt: skip
            if f in named and data[f] not in known:
                raise ValueError(f"{k.name}: unknown {f} {shown(data[f])}")
        if link is not None and link not in names.links:
            raise ValueError(f"{k.name}: unknown link {shown(str(link))}")
    params = k.check(data.get("params") or {})
    return Event(
        float(t), k.name, data.get("camera"), data.get("district"), link, data.get("server"),
        params,
    )  # fmt: skip


def _link(text: str) -> LinkId:
    kind = text.partition(":")[0]
    if kind not in LINK_KINDS:
        raise ValueError(f"unknown link kind {shown(kind)} (one of {', '.join(LINK_KINDS)})")
    return LinkId.parse(text)


def read_jsonl(
    path: str | Path, names: Names | None = None, max_bytes: int = TIMELINE_BYTES
) -> Iterator[Event]:
    """Read a timeline written by write_jsonl; raises TimelineError naming file and line.
    A line is read up to TIMELINE_LINE_BYTES and the file up to `max_bytes` (so /dev/zero
    or one endless line is refused, not read until memory runs out)."""
    try:
        f = open(path, "rb")  # noqa: SIM115 - closed below, generator
    except OSError as exc:
        raise TimelineError(f"{path}: cannot read: {exc.strerror}") from None
    with f:
        total = 0
        for n, raw in enumerate(iter(lambda: f.readline(TIMELINE_LINE_BYTES + 1), b""), 1):
            total += len(raw)
            if len(raw) > TIMELINE_LINE_BYTES:
                limit = size(TIMELINE_LINE_BYTES)
                raise TimelineError(f"{path}:{n}: longer than {limit}, the limit for a line")
            if total > max_bytes:
                raise TimelineError(
                    f"{path}:{n}: the file is larger than {size(max_bytes)}, the limit for a "
                    "timeline"
                )
            try:
                line = decode(raw)
                if not line.strip():
                    continue
                yield parse_event(line, names)
            except LimitError as exc:
                raise TimelineError(f"{path}:{n}: {str(exc).removeprefix('line 1: ')}") from None
            except ValueError as exc:  # at most 300 characters, whatever the line held
                raise TimelineError(f"{path}:{n}: {clip(str(exc), 300)}") from None
