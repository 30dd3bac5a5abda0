"""`camsim loadtest --processes 2`: Locust's master listens for its workers on 127.0.0.1 only
(the benchmarks' stub VMS as the target)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from tests.conftest import loadtest_on_stub, process_tree

MASTER_PORT = 5557


def _socket_inodes(pids: list[int]) -> set[str]:
    inodes = set()
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if link.startswith("socket:["):
                inodes.add(link[8:-1])
    return inodes


def _listening(port: int, inodes: set[str]) -> list[str]:
    """Local addresses (hex, as /proc/net/tcp* writes them) of the listening sockets on
    `port` among `inodes`."""
    out = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            next(f)
            for row in f:
                cols = row.split()
                addr, hexport = cols[1].rsplit(":", 1)
                if cols[3] == "0A" and int(hexport, 16) == port and cols[9] in inodes:
                    out.append(addr)
    return out


def test_locust_master_listens_on_loopback_only(tmp_path: Path) -> None:
    with loadtest_on_stub(tmp_path, "--processes", "2") as load:
        deadline = time.monotonic() + 120
        addrs: list[str] = []
        while not addrs and load.poll() is None:
            assert time.monotonic() < deadline, "no Locust master listening within 120 s"
            time.sleep(0.5)
            addrs = _listening(MASTER_PORT, _socket_inodes(process_tree(load.pid)))
        assert addrs, f"camsim loadtest ended (exit {load.returncode}) before its master listened"
        assert set(addrs) == {"0100007F"}, addrs  # 127.0.0.1, and nothing else
