"""`camsim serve` under a low open-file limit, flooded with connections: it sizes its
connections to the limit, logs the flood in a few lines, and serves again once it ends."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from simulator.streams.client import RtspClient
from simulator.streams.fdlimit import AcceptErrors

TINY = Path(__file__).with_name("tiny.yaml")
CAMSIM = [sys.executable, "-c", "from simulator.cli import main; main()"]
LIMIT = 256


def _under_limit(cmd: list[str], soft: int, hard: int) -> list[str]:
    """`cmd` started under these open-file limits (util-linux's prlimit, not a preexec_fn:
    Python run between fork and exec in this process with threads can hang)."""
    return ["prlimit", f"--nofile={soft}:{hard}", *cmd]


def _flood(port: int, n: int) -> list[socket.socket]:
    out = []
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", port))
        out.append(s)
    return out


def _answers(port: int, timeout: float) -> int:
    """The status of an OPTIONS from a well-behaved client, retried until `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            c = RtspClient(port)
            try:
                return c.request("OPTIONS", f"rtsp://127.0.0.1:{port}/h264cam-001/main").status
            finally:
                c.close()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def test_a_flood_past_the_open_file_limit(clip_dir: Path, tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    cmd = [*CAMSIM, "serve", str(TINY), "--rtsp-port", "0", "--api-port", "0",
           "--cache", str(clip_dir), "--loop-seconds", "2", "--cameras", "h264cam-001",
           "--no-faults", "--quiet"]  # fmt: skip
    with log.open("w") as err:
        proc = subprocess.Popen(
            _under_limit(cmd, LIMIT, LIMIT), stdout=subprocess.PIPE, stderr=err, text=True
        )
    try:
        assert proc.stdout is not None
        ready = json.loads(proc.stdout.readline())
        rtsp, api = ready["rtsp_port"], ready["api_port"]
        assert _answers(rtsp, 10) == 200
        held = []
        for _ in range(3):  # waves, so the server runs out of descriptors more than once
            held += _flood(rtsp, 300) + _flood(api, 100)
            time.sleep(1.5)
        for s in held:
            s.close()
        assert _answers(rtsp, 30) == 200, "a well-behaved client is served after the flood"
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
    text = log.read_text()
    lines = text.splitlines()
    assert "Traceback" not in text, text[:3000]
    assert len(lines) < 40, f"{len(lines)} lines of log:\n" + "\n".join(lines[:40])
    assert sum("open files limit" in line for line in lines) == 1
    assert any("accept(s) failed" in line for line in lines), text


def _fit_under(soft: int, hard: int, connections: int, reserve: int) -> list:
    """fit_open_files in a child process started under these limits: (fit, note, soft after)."""
    code = (
        "import json, resource; from simulator.streams.fdlimit import fit_open_files; "
        f"fit, note = fit_open_files({connections}, {reserve}); "
        "print(json.dumps([fit, note, resource.getrlimit(resource.RLIMIT_NOFILE)[0]]))"
    )
    run = subprocess.run(
        _under_limit([sys.executable, "-c", code], soft, hard),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def test_open_files_are_raised_to_fit_and_connections_sized_to_them() -> None:
    fit, note, soft = _fit_under(200, 1000, 150, 100)
    assert (fit, soft) == (150, 250), "raised as far as needed, no further"
    assert "raised from 200 to 250" in note
    fit, note, soft = _fit_under(200, 300, 1000, 100)
    assert (fit, soft) == (200, 300), "raised to the hard limit, connections sized under it"
    assert "200 RTSP connections of the 1000 asked" in note
    fit, _, soft = _fit_under(200, 200, 1000, 100)
    assert (fit, soft) == (100, 200)


def test_accept_failures_are_counted_and_other_errors_passed_on() -> None:
    import asyncio

    seen = []
    loop = asyncio.new_event_loop()
    try:
        handler = AcceptErrors(lambda _loop, ctx: seen.append(ctx["message"]), interval_s=60)
        for _ in range(1000):
            handler(loop, {"message": "socket.accept() out of system resource",
                           "exception": OSError(24, "Too many open files")})  # fmt: skip
        handler(loop, {"message": "something else"})
        retry = "Exception in callback BaseSelectorEventLoop._start_serving(…)"
        handler(loop, {"message": retry, "exception": ValueError("Invalid file descriptor: -1")})
        assert seen == ["something else"], "an accept retry on a closed listener is no error"
        assert handler.total == 1000 and handler.count == 999, "one line, then counted"
        handler.close()
    finally:
        loop.close()
