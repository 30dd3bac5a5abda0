"""Connections past their time: aborted rather than flushed, and kept alive only by whole
requests and RTCP, not by a byte now and then."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import LoopThread, Served, _serve, until

from simulator.streams.client import RtspClient
from simulator.streams.rtsp import Limits


@pytest.fixture(scope="module")
def brief(loop_thread: LoopThread, tiny_scenario: Any, clip_dir: Path) -> Iterator[Served]:
    """A 2 s session timeout and small socket buffers: a client that does not read fills them."""
    s = _serve(
        loop_thread, tiny_scenario, clip_dir, limits=Limits(timeout_s=2.0, sndbuf_bytes=8192)
    )
    yield s
    loop_thread.run(s.server.stop())


def _conn(served: Served, client: RtspClient) -> Any:
    """The server's side of a client's connection, or None once it is gone."""
    name = client.sock.getsockname()[:2]
    return served.thread.call(
        lambda: next((c for c in served.server.rtsp.connections if c.peer == name), None)
    )


def test_a_connection_that_never_reads_is_aborted_after_its_timeout(brief) -> None:  # noqa: ANN001
    c = RtspClient(brief.port, rcvbuf=4096)
    c.start(brief.url("h264cam-001"))  # then neither reads nor sends
    conn = _conn(brief, c)
    assert conn is not None
    assert until(lambda: brief.thread.call(conn.transport.get_write_buffer_size) > 0, 5), (
        "media waits in the connection's queue: a flush could never end"
    )
    assert until(lambda: _conn(brief, c) is None, 8), "the connection is freed, not flushed"
    assert c.closed_by_server()
    c.close()


def test_a_byte_now_and_then_does_not_keep_a_connection(brief) -> None:  # noqa: ANN001
    c = RtspClient(brief.port)
    c.send_raw(b"OPTIONS rtsp://127.0.0.1/ RTSP/1.0\r\nCSeq: 1\r\nX-Pad: ")
    deadline = time.monotonic() + 8
    closed = False
    while time.monotonic() < deadline and not closed:
        time.sleep(0.3)
        try:
            c.send_raw(b"a")
        except OSError:
            closed = True
        closed = closed or _conn(brief, c) is None
    c.close()
    assert closed, "a request that never ends keeps nothing alive past the 2 s timeout"


def test_a_session_with_a_byte_now_and_then_times_out(brief) -> None:  # noqa: ANN001
    c = RtspClient(brief.port)
    url = brief.url("h264cam-002", "sub")
    session = c.open(url, "RTP/AVP;unicast;client_port=40010-40011")
    sid = session

    def gone() -> bool:
        return brief.thread.call(lambda: sid not in brief.server.rtsp.sessions)

    c.send_raw(f"GET_PARAMETER {url} RTSP/1.0\r\nCSeq: 9\r\nSession: {session}\r\nX: ".encode())
    deadline = time.monotonic() + 8
    while time.monotonic() < deadline and not gone():
        time.sleep(0.3)
        try:
            c.send_raw(b"a")
        except OSError:
            break
    c.close()
    assert gone(), "bytes that never make a request do not keep the session"


def test_interleaved_rtcp_keeps_a_session(brief) -> None:  # noqa: ANN001
    c = RtspClient(brief.port)
    session = c.start(brief.url("h264cam-003", "sub"))
    receiver_report = b"\x80\xc9\x00\x01" + bytes(4)
    for _ in range(12):  # 4.8 s: more than twice the timeout
        c.packets(0.4)
        c.send_raw(b"$\x01" + len(receiver_report).to_bytes(2, "big") + receiver_report)
    assert brief.thread.call(lambda: session in brief.server.rtsp.sessions)
    c.close()


@pytest.fixture(scope="module")
def crowded(loop_thread: LoopThread, tiny_scenario: Any, clip_dir: Path) -> Iterator[Served]:
    """Room for 20 connections only."""
    s = _serve(loop_thread, tiny_scenario, clip_dir, limits=Limits(max_connections=20))
    yield s
    loop_thread.run(s.server.stop())


def test_idle_connections_make_room_for_a_client_when_full(crowded) -> None:  # noqa: ANN001
    player = RtspClient(crowded.port)
    player.start(crowded.url("h265cam-001"))
    idle = [RtspClient(crowded.port) for _ in range(40)]  # never send a whole request
    for c in idle:
        with contextlib.suppress(OSError):  # those beyond the room are refused
            c.send_raw(b"OPTIONS ")
    time.sleep(1.5)
    c = RtspClient(crowded.port)
    assert c.request("OPTIONS", crowded.url("h264cam-001")).status == 200
    assert c.request("DESCRIBE", crowded.url("h264cam-001")).status == 200
    assert len(player.packets(1.0)) > 0, "a connection with a session is never the one to go"
    assert crowded.thread.call(lambda: len(crowded.server.rtsp.connections)) <= 20
    for x in [c, player, *idle]:
        x.close()


def _kernel_sockets(local_port: int, remote_port: int) -> list[tuple[str, int]]:
    """(TCP state, bytes unsent) of the kernel's sockets from `local_port` to `remote_port` on
    127.0.0.1, read from /proc/net/tcp (state 04 is FIN-WAIT-1)."""
    found = []
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, state, queues = fields[1], fields[2], fields[3], fields[4]
        if (
            int(local.split(":")[1], 16) == local_port
            and int(remote.split(":")[1], 16) == remote_port
        ):
            found.append((state, int(queues.split(":")[0], 16)))
    return found


def test_an_aborted_connection_is_reset_and_leaves_nothing_in_the_kernel(brief) -> None:  # noqa: ANN001
    c = RtspClient(brief.port, rcvbuf=4096)
    c.start(brief.url("h265cam-001"))  # then stops reading: media fills both buffers
    mine = c.sock.getsockname()[1]
    assert until(lambda: any(q > 0 for _, q in _kernel_sockets(brief.port, mine)), 5), (
        "the server's socket holds media the client has not taken"
    )
    assert until(lambda: _conn(brief, c) is None, 8), "dropped after its 2 s timeout"
    assert until(lambda: not _kernel_sockets(brief.port, mine), 1), (
        f"the server's socket outlives the abort: {_kernel_sockets(brief.port, mine)}"
    )
    c.sock.settimeout(5)
    with pytest.raises(ConnectionResetError):  # a reset, not the queued media then a FIN
        while c.sock.recv(65536):
            pass
    c.close()
