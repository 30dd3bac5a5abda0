"""The serving process's heap: large blocks freed go back to the kernel once
`map_large_blocks` has been called (glibc), where they stayed in the heap before."""

from __future__ import annotations

import subprocess
import sys

import pytest

#: Frees one large block (which raises glibc's dynamic threshold past it), then takes 300
#: large blocks each pinned by a small one after it (as a slow reader's write buffer is
#: followed by other allocations), frees the large ones and prints the MB still resident.
CHURN = """
import sys
from simulator.streams.heap import map_large_blocks
if sys.argv[1] == "mapped":
    assert map_large_blocks()
def rss_mb():
    return int(open("/proc/self/statm").read().split()[1]) * 4096 / 2**20
base = rss_mb()
first = bytearray(400_000)
del first
big, small = [], []
for _ in range(300):
    b = bytearray(300_000)
    b[::4096] = bytes(len(b[::4096]))  # touched: resident
    big.append(b)
    small.append(bytearray(1024))  # past pymalloc, from the C heap: pins what is before it
del big
print(rss_mb() - base)
"""


def _kept_mb(mode: str) -> float:
    run = subprocess.run([sys.executable, "-c", CHURN, mode], capture_output=True, text=True,
                         timeout=60)  # fmt: skip
    assert run.returncode == 0, run.stderr
    return float(run.stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_freed_large_blocks_go_back_to_the_kernel() -> None:
    assert _kept_mb("default") > 50, "glibc's default keeps the freed blocks in its heap"
    assert _kept_mb("mapped") < 5
