"""The timeline as JSON Lines: one event per line, checked against the registry on reading."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from simulator.timeline.event import Event, LinkId
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
    """One line → Event, checked against the registry (and `names`); raises ValueError."""
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc.msg})") from None
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    extra = set(data) - FIELDS
    if extra:
        raise ValueError(
            f"unknown field {sorted(extra)[0]!r} (allowed: {', '.join(sorted(FIELDS))})"
        )
    k = kind_of(data.get("kind"))  # type: ignore[arg-type]
    t = data.get("t")
    if isinstance(t, bool) or not isinstance(t, int | float) or t < 0:
        raise ValueError(f"t: expected seconds ≥ 0, got {t!r}")
    named = [f for f in SUBJECT_FIELDS if data.get(f) is not None]
    wanted = [] if k.subject == "city" else [k.subject]
    if named != wanted:
        raise ValueError(
            f"{k.name}: names {' and '.join(named) or 'nothing'}, expected "
            f"{k.subject if wanted else 'nothing (city-wide)'}"
        )
    link = LinkId.parse(data["link"]) if "link" in named else None
    if names is not None:
        for f, known in (
            ("camera", names.cameras), ("district", names.districts), ("server", names.servers)
        ):  # fmt: skip
            if f in named and data[f] not in known:
                raise ValueError(f"{k.name}: unknown {f} {data[f]!r}")
        if link is not None and link not in names.links:
            raise ValueError(f"{k.name}: unknown link {str(link)!r}")
    params = k.check(data.get("params") or {})
    return Event(
        float(t), k.name, data.get("camera"), data.get("district"), link, data.get("server"),
        params,
    )  # fmt: skip


def read_jsonl(path: str | Path, names: Names | None = None) -> Iterator[Event]:
    """Read a timeline written by write_jsonl; raises TimelineError naming file and line."""
    try:
        f = open(path, encoding="utf-8")  # noqa: SIM115 - closed below, generator
    except OSError as exc:
        raise TimelineError(f"{path}: cannot read: {exc.strerror}") from None
    with f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                yield parse_event(line, names)
            except ValueError as exc:
                raise TimelineError(f"{path}:{n}: {exc}") from None
