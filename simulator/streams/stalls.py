"""The event loop's stalls: a probe that notes every stretch longer than `threshold_s` in which
the loop ran none of its callbacks, and why.

A timer every `every_s` marks the loop alive. When it comes late, the probe reads what the
loop's thread did meanwhile from the kernel (`/proc/thread-self/schedstat`: CPU time, and time
spent runnable but waiting for a CPU), the process's other threads' CPU time, the garbage
collector's time, and the stack samples a watchdog thread took while the loop was silent. The
stall's cause is the largest of: `busy` (the loop's own thread ran: a callback's work),
`starved` (it waited for a CPU: other processes on the host), `stolen` (the hypervisor ran
something else on the host's CPUs: /proc/stat's steal), `gc` (the collector ran),
`thread` (another thread of the process ran, holding the GIL), `asleep` (none of these: a
blocking system call). Each stall over the threshold is logged as one line (at most one a
second; the rest counted) and kept in the counters the control API exposes. Frames sent
late without a stall (the loop ran, but could not keep up) are noted too: every second in
which the pacer sent a frame more than `threshold_s` late is one line with that second's
shares, in the same words.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from simulator.streams.metrics import Histogram

log = logging.getLogger("camsim.serve")
CAUSES = ("busy", "starved", "stolen", "gc", "thread", "asleep")
STALL_BUCKETS = (0.1, 0.15, 0.2, 0.3, 0.5, 1.0, 2.0, 5.0)


def _schedstat(fd: int) -> tuple[float, float]:
    """(CPU seconds, seconds runnable but waiting for a CPU) of one thread; zeros without."""
    if fd < 0:
        return 0.0, 0.0
    try:
        cpu, wait = os.pread(fd, 96, 0).split()[:2]
    except (OSError, ValueError):
        return 0.0, 0.0
    return int(cpu) / 1e9, int(wait) / 1e9


def _host(fd: int) -> tuple[int, int, int]:
    """The host's CPU time so far in clock ticks, (busy, stolen by the hypervisor, all), from
    /proc/stat's first line."""
    if fd < 0:
        return 0, 0, 0
    try:
        ticks = [int(x) for x in os.pread(fd, 256, 0).split(b"\n", 1)[0].split()[1:9]]
    except (OSError, ValueError):
        return 0, 0, 0
    idle = ticks[3] + ticks[4]  # idle, iowait
    return sum(ticks) - idle - ticks[7], ticks[7], sum(ticks)


def _host_use(now: tuple[int, int, int], then: tuple[int, int, int]) -> tuple[str, float]:
    """("97 % (stolen 3 %)", 0.03): the host's CPUs busy, and the share the hypervisor stole,
    between two `_host` readings."""
    busy, stolen, ticks = (a - b for a, b in zip(now, then, strict=True))
    if ticks <= 0:
        return "? % (stolen ? %)", 0.0
    return f"{100 * busy / ticks:.0f} % (stolen {100 * stolen / ticks:.0f} %)", stolen / ticks


def where(frame: object, depth: int = 4) -> str:
    """The innermost `depth` frames of a stack as `file:function:line` from inner to outer.
    Read from the frames themselves: `traceback` would load each file's source into
    linecache, a megabyte kept for a name and a number."""
    out = []
    f = frame
    while f is not None and len(out) < depth:
        code = f.f_code  # type: ignore[attr-defined]
        out.append(f"{os.path.basename(code.co_filename)}:{code.co_name}:{f.f_lineno}")  # type: ignore[attr-defined]
        f = f.f_back  # type: ignore[attr-defined]
    return " < ".join(out)


@dataclass
class LoopProbe:
    """Notes the event loop's stalls over `threshold_s` with their cause (start on the loop)."""

    threshold_s: float = 0.1
    every_s: float = 0.02
    lag: Histogram = field(default_factory=lambda: Histogram(STALL_BUCKETS))
    by_cause: Counter = field(default_factory=Counter)  # stalls over the threshold
    seconds_by_cause: Counter = field(default_factory=Counter)
    logged_at: float = 0.0
    unlogged: int = 0
    late_seconds: Counter = field(default_factory=Counter)  # seconds with late frames, by cause

    def start(self, late: Callable[[], float] = lambda: 0.0) -> None:
        """Start on the running loop: its timer, the GC callback and the watchdog thread;
        `late()` answers the worst send lateness since it was last asked (the pacer's)."""
        self.loop = asyncio.get_running_loop()
        self._late = late
        self._ident = threading.get_ident()
        try:
            self._fd = os.open(f"/proc/self/task/{threading.get_native_id()}/schedstat", 0)
        except OSError:
            self._fd = -1
        try:
            self._stat = os.open("/proc/stat", os.O_RDONLY)
        except OSError:
            self._stat = -1
        self._gc_s = 0.0
        self._gc_t0 = 0.0
        self._samples: Counter = Counter()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._beat = time.monotonic()
        self._mark()
        self._second = (self._beat, self._cpu, self._wait, self._proc, self._gc_s, self._host)
        gc.callbacks.append(self._gc)
        self._watch = threading.Thread(target=self._watchdog, name="loop-probe", daemon=True)
        self._watch.start()
        self._handle = self.loop.call_at(self._beat + self.every_s, self._tick)

    def stop(self) -> None:
        self._stop.set()
        self._handle.cancel()
        with contextlib.suppress(ValueError):
            gc.callbacks.remove(self._gc)
        for fd in (self._fd, self._stat):
            if fd >= 0:
                os.close(fd)
        self._fd = self._stat = -1

    def _mark(self) -> None:
        self._cpu, self._wait = _schedstat(self._fd)
        self._proc = time.process_time()
        self._gc_mark = self._gc_s
        self._host = _host(self._stat)

    def _gc(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._gc_t0 = time.perf_counter()
        elif self._gc_t0:
            self._gc_s += time.perf_counter() - self._gc_t0
            self._gc_t0 = 0.0

    def _watchdog(self) -> None:
        """Sample the loop thread's stack while the loop is silent (needs the GIL: a thread
        that holds it through C code is seen when it lets go)."""
        while not self._stop.wait(self.every_s):
            if time.monotonic() - self._beat > self.threshold_s / 2:
                frame = sys._current_frames().get(self._ident)
                try:
                    w = "?" if frame is None else where(frame)
                except Exception as exc:  # a sample lost, never the watchdog
                    w = f"? ({type(exc).__name__})"
                with self._lock:
                    self._samples[w] += 1
                del frame

    def _tick(self) -> None:
        now = time.monotonic()
        lag = now - self._beat - self.every_s
        if lag > self.threshold_s:
            self._stall(lag, now)
        elif self._samples:  # taken in a silence that ended short of a stall
            with self._lock:
                self._samples.clear()
        self._beat = now
        self._mark()
        if now - self._second[0] >= 1.0:
            self._late_second(now)
        self._handle = self.loop.call_at(now + self.every_s, self._tick)

    def _stall(self, lag: float, now: float) -> None:
        cpu, wait = _schedstat(self._fd)
        cpu, wait = cpu - self._cpu, wait - self._wait
        gc_s = self._gc_s - self._gc_mark
        others = max(0.0, time.process_time() - self._proc - cpu)
        host, stolen = _host_use(_host(self._stat), self._host)
        with self._lock:
            samples, self._samples = self._samples, Counter()
        cause = self._shares(cpu, wait, gc_s, others, stolen * lag, lag)
        self.lag.observe(lag)
        self.by_cause[cause] += 1
        self.seconds_by_cause[cause] += lag
        if now - self.logged_at < 1.0:
            self.unlogged += 1
            return
        self.logged_at = now
        top = "; ".join(f"{n}x {w}" for w, n in samples.most_common(3)) or "none"
        more = f" ({self.unlogged} more stalls not logged)" if self.unlogged else ""
        self.unlogged = 0
        log.warning(
            "camsim: loop stalled %.3f s at %.3f: %s (loop thread CPU %.3f s, waiting for a "
            "CPU %.3f s, GC %.3f s, other threads %.3f s; the host's CPUs busy %s); "
            "samples: %s%s",
            lag, time.time() - lag, cause, cpu, wait, gc_s, others, host, top, more,
        )  # fmt: skip

    def _shares(
        self, cpu: float, wait: float, gc_s: float, others: float, stolen: float, span: float
    ) -> str:
        """The largest share, `asleep` if none is a third of `span`; `stolen` is the host's
        share the hypervisor took times the span (the time the vCPU likely did not run)."""
        shares = {"busy": cpu - gc_s, "starved": wait, "gc": gc_s, "thread": others,
                  "stolen": stolen}  # fmt: skip
        cause = max(shares, key=shares.__getitem__)
        return "asleep" if shares[cause] < span / 3 else cause

    def _late_second(self, now: float) -> None:
        """Every second: if a frame went out more than `threshold_s` late in it, log why."""
        t, cpu0, wait0, proc0, gc0, host0 = self._second
        self._second = (now, self._cpu, self._wait, self._proc, self._gc_s, self._host)
        late = self._late()
        if late <= self.threshold_s:
            return
        cpu, wait = self._cpu - cpu0, self._wait - wait0
        gc_s, others = self._gc_s - gc0, max(0.0, self._proc - proc0 - (self._cpu - cpu0))
        host, stolen = _host_use(self._host, host0)
        # serving takes a share of a CPU every second: waiting for one longer than the
        # threshold (or the hypervisor taking that much) is enough to send a frame that late
        if max(wait, stolen * (now - t)) >= self.threshold_s:
            cause = "starved" if wait >= stolen * (now - t) else "stolen"
        else:
            cause = self._shares(cpu, wait, gc_s, others, stolen * (now - t), late)
        self.late_seconds[cause] += 1
        log.warning(
            "camsim: frames sent up to %.3f s late in the %.1f s to %.3f: %s (loop thread CPU "
            "%.3f s, waiting for a CPU %.3f s, GC %.3f s, other threads %.3f s; the host's "
            "CPUs busy %s)",
            late, now - t, time.time(), cause, cpu, wait, gc_s, others, host,
        )  # fmt: skip

    def lines(self) -> list[str]:
        """Prometheus lines: the stalls' histogram, the stalls by cause and the seconds with a
        frame sent late by cause."""
        out = [
            "# HELP camsim_loop_stall_seconds event loop stalls over the probe's threshold",
            "# TYPE camsim_loop_stall_seconds histogram",
            *self.lag.lines("camsim_loop_stall_seconds"),
            "# HELP camsim_loop_stalls_total loop stalls by cause",
            "# TYPE camsim_loop_stalls_total counter",
        ]
        out += [f'camsim_loop_stalls_total{{cause="{c}"}} {self.by_cause[c]}' for c in CAUSES]
        out += [
            "# HELP camsim_late_seconds_total seconds with a frame sent over the probe's "
            "threshold late, by cause",
            "# TYPE camsim_late_seconds_total counter",
        ]
        out += [f'camsim_late_seconds_total{{cause="{c}"}} {self.late_seconds[c]}' for c in CAUSES]
        return out
