"""Soak without drift: what Locust would otherwise let grow for as long as a run lasts.

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
    """Stands in for `events.request` where a client fires its own events (Locust's
    HttpSession): exceptions are normalised before they reach the statistics."""

    def __init__(self, fire: Callable[..., None]) -> None:
        self._fire = fire

    def fire(self, **kw: Any) -> None:
        kw["exception"] = failure(kw.get("exception"))
        self._fire(**kw)


class Trimmer:
    """Caps Locust's statistics of one runner on a timer: at most `history` points of
    `stats.history`, per-second counts of the last `window_s` seconds."""

    def __init__(self, stats: Any, history: int = 720, window_s: float = 60.0,
                 every_s: float = 30.0) -> None:  # fmt: skip
        self.stats, self.history, self.window_s, self.every_s = stats, history, window_s, every_s
        self.greenlet: gevent.Greenlet | None = None

    def trim(self, now: float | None = None) -> None:
        s = self.stats
        if len(s.history) > self.history:
            del s.history[: len(s.history) - self.history]
        oldest = int(now if now is not None else time.time()) - int(self.window_s)
        for entry in [s.total, *s.entries.values()]:
            for per_second in (entry.num_reqs_per_sec, entry.num_fail_per_sec):
                for t in [t for t in per_second if t < oldest]:
                    del per_second[t]

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
