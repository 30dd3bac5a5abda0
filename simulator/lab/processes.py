"""CPU and memory of processes on this host, from /proc: the harness's own and the target's."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_MB = os.sysconf("SC_PAGE_SIZE") / 2**20


@dataclass(frozen=True)
class Usage:
    """CPU seconds used so far and resident memory, of one process or a group."""

    cpu_s: float
    rss_mb: float
    count: int = 1


def usage(pid: int) -> Usage | None:
    """One process's usage (None if it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        statm = Path(f"/proc/{pid}/statm").read_text().split()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    cpu = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime
    return Usage(cpu, int(statm[1]) * PAGE_MB)


def by_name(names: tuple[str, ...]) -> dict[str, Usage]:
    """Summed usage of the processes whose command name starts with each of `names`
    (e.g. zmc, apache2, mariadbd): what the target uses when it runs on this host. A process
    that ends takes its CPU seconds with it, so the interval it ends in reads as idle."""
    if not names:  # a target elsewhere: no need to read every process's name
        return {}
    totals: dict[str, list[float]] = {n: [0.0, 0.0, 0] for n in names}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            comm = (entry / "comm").read_text().strip()
        except OSError:
            continue
        for n in names:
            if comm.startswith(n):
                u = usage(int(entry.name))
                if u is not None:
                    t = totals[n]
                    t[0], t[1], t[2] = t[0] + u.cpu_s, t[1] + u.rss_mb, t[2] + 1
    return {n: Usage(t[0], t[1], int(t[2])) for n, t in totals.items() if t[2]}


def named(names: tuple[str, ...]) -> dict[int, Usage]:
    """Each process whose command name is one of `names` exactly, by pid."""
    out: dict[int, Usage] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                comm = (entry / "comm").read_text().strip()
            except OSError:
                continue
            if comm in names and (u := usage(int(entry.name))) is not None:
                out[int(entry.name)] = u
    return out


def children() -> dict[int, list[int]]:
    """Every process's children on this host, by parent pid (from /proc)."""
    out: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
            out.setdefault(ppid, []).append(int(entry.name))
    return out


def tree(pid: int) -> Usage | None:
    """Summed usage of a process and all its descendants (None if it is gone): `camsim
    loadtest` runs Locust in child processes."""
    kids = children()
    total, todo, count = [0.0, 0.0], [pid], 0
    while todo:
        u = usage(p := todo.pop())
        if u is not None:
            total[0], total[1], count = total[0] + u.cpu_s, total[1] + u.rss_mb, count + 1
        todo += kids.get(p, [])
    return Usage(total[0], total[1], count) if count else None


def end(proc: subprocess.Popen, sig: int = signal.SIGTERM, grace_s: float = 15.0) -> None:
    """Ask a child to end with `sig`; kill it if it has not within `grace_s`."""
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(grace_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def tied(cmd: list[str]) -> list[str]:
    """`cmd` run so that it ends (SIGTERM) when this process does, even by SIGKILL: Linux's
    parent-death signal, set by util-linux's `setpriv` in the child. Not a `preexec_fn`: that
    runs Python between fork and exec, where a fork of a process with threads can hang on a
    lock another thread held (CI's pytest hung on one). Without setpriv, `cmd` as is."""
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "TERM", "--", *cmd] if setpriv else list(cmd)
