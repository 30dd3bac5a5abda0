"""Open files for `camsim serve`: the process's limit raised to fit the connections it takes,
and accept failures for want of descriptors logged once per interval instead of per accept."""

from __future__ import annotations

import asyncio
import errno
import logging
import resource
from collections.abc import Callable
from typing import Any

log = logging.getLogger("camsim.serve")

# Descriptors kept for everything but RTSP connections: the API's clients, the listeners, the
# UDP pair, clip files, logs, the event loop's own.
RESERVE = 128
# accept() errors that mean "no descriptor or memory now": stop accepting for a moment
OUT_OF_RESOURCES = (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM)
# asyncio's message for those on its own listeners (the control API's); it then stops
# accepting on that listener for a second (selector_events.ACCEPT_RETRY_DELAY)
ACCEPT_FAILED = "socket.accept() out of system resource"


def fit_open_files(max_connections: int, reserve: int = RESERVE) -> tuple[int, str]:
    """Raise the soft RLIMIT_NOFILE as far as `max_connections` + `reserve` need (up to the hard
    limit); return the connections that fit under the limit and a line saying so."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = max_connections + reserve
    was = soft
    if soft != resource.RLIM_INFINITY and soft < need:
        target = need if hard == resource.RLIM_INFINITY else min(hard, need)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    if soft == resource.RLIM_INFINITY:
        return max_connections, "open files: no limit"
    fit = max(1, min(max_connections, max(soft - reserve, soft // 4)))
    raised = f"raised from {was} to {soft}" if soft != was else f"{soft}"
    note = f"open files limit {raised} (hard {_show(hard)}): up to {fit} RTSP connections"
    if fit < max_connections:
        note += f" of the {max_connections} asked, {reserve} files kept for the rest"
    return fit, note


def _show(limit: int) -> str:
    return "none" if limit == resource.RLIM_INFINITY else str(limit)


Handler = Callable[[asyncio.AbstractEventLoop, dict[str, Any]], object]


class AcceptErrors:
    """Accept failures for want of descriptors, counted and logged in one line per interval:
    the RTSP listener's (note) and, as an event loop exception handler, asyncio's own
    listeners'; the handler passes every other error on."""

    def __init__(self, previous: Handler | None = None, interval_s: float = 10.0) -> None:
        self.previous = previous
        self.interval_s = interval_s
        self.count = 0  # failures since the last line
        self.total = 0
        self._timer: asyncio.TimerHandle | None = None

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        message = context.get("message", "")
        if "_start_serving" in message and isinstance(context.get("exception"), ValueError):
            return  # asyncio's accept retry timer, fired after its listener was closed
        if message != ACCEPT_FAILED:
            if self.previous is not None:
                self.previous(loop, context)
            else:
                loop.default_exception_handler(context)
            return
        self.note(loop, context.get("exception"))

    def note(self, loop: asyncio.AbstractEventLoop, exc: object) -> None:
        """Count one failed accept; log it now if nothing was logged in the last interval."""
        self.count += 1
        self.total += 1
        if self._timer is None:
            self._report(loop, exc)

    def _report(self, loop: asyncio.AbstractEventLoop, exc: object) -> None:
        self._timer = None
        if not self.count:
            return
        why = getattr(exc, "strerror", None) or "out of resources"
        log.warning(
            "camsim: %s: %d accept(s) failed since the last report; accepting again "
            "shortly, reported every %g s",
            why,
            self.count,
            self.interval_s,
        )
        self.count = 0
        self._timer = loop.call_later(self.interval_s, self._report, loop, exc)

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
