"""The event: something that happens at simulated time `t`, and the links events name.

`t` is seconds since the simulation start. An event names at most one subject: a camera, a
district, a link or a recording server; city-wide events (nightfall) name none. What each
kind names and carries is in `simulator.timeline.kinds`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

LinkKind = Literal["access", "uplink", "backup", "core"]
LINK_KINDS: tuple[LinkKind, ...] = ("access", "uplink", "backup", "core")


@dataclass(frozen=True, order=True)
class LinkId:
    """A network link: a camera's access link, a district's uplink or backup, or the core."""

    kind: LinkKind
    name: str = ""  # the camera (access) or district (uplink, backup); empty for the core

    def __post_init__(self) -> None:
        if self.kind not in LINK_KINDS:
            raise ValueError(f"unknown link kind {self.kind!r} (one of {', '.join(LINK_KINDS)})")
        if (self.kind == "core") != (not self.name):
            raise ValueError(f"link {self.kind!r}: the core has no name, every other link one")

    def __str__(self) -> str:
        return self.kind if self.kind == "core" else f"{self.kind}:{self.name}"

    @classmethod
    def parse(cls, text: str) -> LinkId:
        """`core`, `access:<camera>`, `uplink:<district>` or `backup:<district>`."""
        kind, _, name = text.partition(":")
        return cls(kind, name)  # type: ignore[arg-type]


@dataclass(frozen=True, order=True)
class Event:
    """Something that happens at time `t` (seconds since the simulation start)."""

    t: float
    kind: str
    camera: str | None = None
    district: str | None = None
    link: LinkId | None = None
    server: str | None = None
    params: dict[str, Any] = field(default_factory=dict, compare=False)

    def sort_key(self) -> tuple:
        """Time, then kind and subject: one total order for every timeline."""
        return (
            self.t,
            self.kind,
            self.camera or "",
            self.district or "",
            str(self.link or ""),
            self.server or "",
        )

    def to_json(self) -> str:
        data: dict[str, Any] = {"t": round(self.t, 3), "kind": self.kind}
        for name in ("camera", "district", "server"):
            if getattr(self, name) is not None:
                data[name] = getattr(self, name)
        if self.link is not None:
            data["link"] = str(self.link)
        if self.params:
            data["params"] = self.params
        return json.dumps(data, sort_keys=True, separators=(",", ":"))

    def with_params(self, **params: Any) -> Event:
        return Event(
            self.t, self.kind, self.camera, self.district, self.link, self.server,
            {**self.params, **params},
        )  # fmt: skip


def sort_events(events: list[Event]) -> list[Event]:
    """Sort in place by Event.sort_key and return the list."""
    events.sort(key=Event.sort_key)
    return events
