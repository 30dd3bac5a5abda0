"""Locust's statistics kept bounded, so a soak does not drift: what Locust would otherwise let
grow for as long as a run lasts.

Locust appends to `stats.history` every few seconds and never trims it, keeps a count per
second of every request name in dicts it never prunes, and keys errors by their text (ids,
addresses and numbers make a new key each time). `normalise` turns an error into a bounded
set of messages; `Trimmer` caps the rest on a timer.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import gevent

MAX_ERROR = 160  # characters of a normalised error message
_URL = re.compile(r"\b(?:https?|rtsp)://[^\s'\"<>]+")
_ADDRESS = re.compile(r"\b0x[0-9a-fA-F]+\b")
_HEX = re.compile(r"\b[0-9a-fA-F]{8,}(?:-[0-9a-fA-F]{4,})*\b")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_SPACE = re.compile(r"\s+")


def _url(m: re.Match[str]) -> str:
    scheme, _, rest = m.group(0).partition("://")
    path = rest.split("?", 1)[0]
    host, _, path = path.partition("/")
    return f"{scheme}://{host}/{path}"


def normalise(message: str) -> str:
    """An error message with what varies from one occurrence to the next taken out: query
    strings, addresses, long hex ids and numbers (→ #), whitespace; at most MAX_ERROR long."""
    text = _URL.sub(_url, message)
    text = _ADDRESS.sub("0x…", text)
    text = _HEX.sub("…", text)
    text = _NUMBER.sub("#", text)
    text = _SPACE.sub(" ", text).strip()
    return text[:MAX_ERROR]


class Failure(Exception):
    """A failure with a normalised message (what Locust keys its error table by)."""

    def __init__(self, message: str) -> None:
        super().__init__(normalise(message))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.args[0]!r})"


def failure(exc: BaseException | str | None) -> Failure | None:
    """Any exception (or message) as a Failure; None stays None."""
    if exc is None or isinstance(exc, Failure):
        return exc
    text = exc if isinstance(exc, str) else f"{type(exc).__name__}: {exc}"
    return Failure(text)


class NormalisingHook:
    """Stands in for `events.request` where a client fires its own events (`FastClient`):
    exceptions are normalised before they reach the statistics."""

    def __init__(self, fire: Callable[..., None]) -> None:
        self._fire = fire

    def fire(self, **kw: Any) -> None:
        kw["exception"] = failure(kw.get("exception"))
        self._fire(**kw)


MAX_MINUTES = 7 * 24 * 60  # per-minute counts kept (a week's soak)


class Trimmer:
    """Caps Locust's statistics of one runner on a timer: at most `history` points of
    `stats.history`, per-second counts of the last `window_s` seconds. The actions' seconds it
    drops are kept by the minute (`minutes`: kind → minute → [ended, failed], bounded)."""

    def __init__(self, stats: Any, history: int = 720, window_s: float = 60.0,
                 every_s: float = 30.0, keep: str = "ACTION") -> None:  # fmt: skip
        self.stats, self.history, self.window_s, self.every_s = stats, history, window_s, every_s
        self.keep = keep
        self.minutes: dict[str, dict[int, list[int]]] = {}
        self.greenlet: gevent.Greenlet | None = None

    def _fold(self, entry: Any, seconds: list[int]) -> None:
        if entry.method != self.keep:
            return
        per = self.minutes.setdefault(entry.name, {})
        for t in seconds:
            m = per.setdefault(t // 60, [0, 0])
            m[0] += entry.num_reqs_per_sec.get(t, 0)
            m[1] += entry.num_fail_per_sec.get(t, 0)
        while len(per) > MAX_MINUTES:
            del per[min(per)]

    def flush(self) -> None:
        """Fold every per-second count still held into the minutes (at the end of a run)."""
        for entry in self.stats.entries.values():
            self._fold(entry, sorted(set(entry.num_reqs_per_sec) | set(entry.num_fail_per_sec)))
            entry.num_reqs_per_sec.clear()
            entry.num_fail_per_sec.clear()

    def trim(self, now: float | None = None) -> None:
        s = self.stats
        if len(s.history) > self.history:
            del s.history[: len(s.history) - self.history]
        oldest = int(now if now is not None else time.time()) - int(self.window_s)
        for entry in s.entries.values():
            held = set(entry.num_reqs_per_sec) | set(entry.num_fail_per_sec)
            self._fold(entry, sorted(t for t in held if t < oldest))
        for entry in [s.total, *s.entries.values()]:
            for per_second in (entry.num_reqs_per_sec, entry.num_fail_per_sec):
                for t in [t for t in per_second if t < oldest]:
                    del per_second[t]

    def outage(self, start: float) -> dict[str, Any]:
        """When actions failed, by minute of the run since `start` (Unix time): the failing
        minutes, the first and last, and whether actions succeeded again after the last."""
        total: dict[int, list[int]] = {}
        for per in self.minutes.values():
            for m, (n, f) in per.items():
                t = total.setdefault(m, [0, 0])
                t[0] += n
                t[1] += f
        first = int(start) // 60
        failing = sorted(m - first for m, (_, f) in total.items() if f)
        if not failing:
            return {"failing_minutes": 0}
        last = failing[-1] + first
        back = [m - first for m, (n, f) in sorted(total.items()) if m > last and n > f == 0]
        by_kind = {k: {str(m - first): v[1] for m, v in sorted(per.items()) if v[1]}
                   for k, per in self.minutes.items()}  # fmt: skip
        return {"failing_minutes": len(failing), "first": failing[0], "last": failing[-1],
                "back_at": back[0] if back else None,
                "failures_by_minute": {k: v for k, v in by_kind.items() if v}}  # fmt: skip

    def start(self) -> gevent.Greenlet:
        def loop() -> None:
            while True:
                gevent.sleep(self.every_s)
                self.trim()

        self.greenlet = gevent.spawn(loop)
        return self.greenlet

    def stop(self) -> None:
        if self.greenlet is not None:
            self.greenlet.kill(block=False)
