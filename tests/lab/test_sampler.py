"""Processes that come and go (ZoneMinder's `zms`, one per live view) as one series whose CPU
total never goes back when one of them ends."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from simulator.lab.sampler import TRANSIENT_PROCESSES, Transient

BUSY = "import time\nend = time.process_time() + {cpu}\nwhile time.process_time() < end: pass\n"


NAME = "camsim-zms"  # not ZoneMinder's own zms, which a test beside this one may run


def _zms(tmp: Path, cpu_s: float) -> subprocess.Popen:
    """A process named NAME (Python under that name) that burns `cpu_s` of CPU and ends."""
    exe = tmp / NAME
    if not exe.exists():
        exe.symlink_to(sys.executable)
    return subprocess.Popen([str(exe), "-c", BUSY.format(cpu=cpu_s)])


def test_ended_views_keep_their_cpu_in_the_series(tmp_path: Path) -> None:
    assert TRANSIENT_PROCESSES["zoneminder"]["zms"] == ("zms", "nph-zms")
    zms = Transient((NAME,))
    assert zms.sample().count == 0
    first = _zms(tmp_path, 1.0)
    seen, rss = 0.0, 0.0  # the most CPU and memory seen while it ran
    while first.poll() is None:
        u = zms.sample()
        seen, rss = max(seen, u.cpu_s), max(rss, u.rss_mb)
    assert seen > 0 and rss > 0
    gone = zms.sample()  # it has ended: its CPU stays in the total
    assert gone.count == 0 and gone.cpu_s >= seen
    second = _zms(tmp_path, 1.0)
    while second.poll() is None:
        last = zms.sample()
        assert last.cpu_s >= gone.cpu_s  # the second's adds to it
    assert zms.sample().cpu_s >= last.cpu_s > gone.cpu_s
