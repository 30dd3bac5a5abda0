"""Digest replay for the soak's hostile trickle (benchmarks/hostile.py): a `camsim serve` that
asks for credentials (--user/--password, Digest), a client that plays a stream with them, and
its captured Authorization headers sent again.

A round: a client DESCRIBEs, SETs UP and PLAYs a stream with the right password (qop=auth,
nonce counts 1, 2, 3); its PLAY is sent again as captured on the same connection (the same
nonce count: refused, 401), and its SETUP and PLAY as captured on a new connection (a nonce is
good only on the connection it was issued on: refused, 401 with stale=true). The client then
tears its session down.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

from simulator.streams.client import RtspClient, RtspError

USER = "camsim"
KINDS = {  # kind → the answers it expects
    "digest replay, same connection": ("401",),
    "digest replay, other connection": ("401 stale",),
}


class _Tape:
    """A socket that keeps what was sent on it."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock, self.sent = sock, []

    def sendall(self, data: bytes) -> None:
        self.sent.append(bytes(data))
        self.sock.sendall(data)

    def __getattr__(self, name: str) -> object:
        return getattr(self.sock, name)


def _said(client: RtspClient) -> str:
    """The next answer's status, "401 stale" for a 401 that says stale=true."""
    try:
        a = client.answer()
    except (OSError, RtspError) as exc:
        return f"{type(exc).__name__}"
    stale = "stale=true" in a.headers.get("www-authenticate", "").replace(" ", "").lower()
    return f"{a.status}{' stale' if a.status == 401 and stale else ''}"


def replay_round(port: int, url: str, password: str) -> list[tuple[str, str, str]]:
    """One round against the serve on `port`: (kind, label, answer) per replayed request; a
    handshake that failed is one ("digest handshake", label, error)."""
    try:
        client = RtspClient(port, user=USER, password=password, timeout_s=5)
    except OSError as exc:
        return [("digest handshake", "connect", type(exc).__name__)]
    tape = _Tape(client.sock)
    client.sock = tape  # type: ignore[assignment]
    out = []
    try:
        client.start(url)
        setup, play = (r for r in tape.sent if r.startswith((b"SETUP", b"PLAY")))
        tape.sock.sendall(play)
        out.append(("digest replay, same connection", "PLAY as captured", _said(client)))
        for label, request in (("SETUP", setup), ("PLAY", play)):
            other = RtspClient(port, timeout_s=5)
            try:
                other.send_raw(request)
                out.append(("digest replay, other connection", f"{label} as captured",
                            _said(other)))  # fmt: skip
            finally:
                other.close()
        client.teardown(url)
    except (OSError, RtspError, ValueError) as exc:
        out.append(("digest handshake", url[-30:], f"{type(exc).__name__}: {str(exc)[:40]}"))
    finally:
        client.close()
    return out


def start_serve(scenario: str, log: Path, cameras: int = 2) -> tuple[subprocess.Popen, dict]:
    """A small `camsim serve` asking for Digest credentials (no faults); the process and
    {"port", "url", "password"}."""
    password = secrets.token_hex(8)
    cmd = [sys.executable, "-m", "simulator.cli", "serve", scenario, "--cameras", str(cameras),
           "--rtsp-port", "0", "--api-port", "0", "--no-faults", "--quiet", "--overlay", "group",
           "--user", USER, "--password", password]  # fmt: skip
    with open(log, "w", encoding="utf-8") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True)
    assert proc.stdout is not None
    ready = {}
    for line in proc.stdout:
        if line.startswith("{"):
            ready = json.loads(line)
            break
    if not ready:
        proc.wait(10)
        raise RuntimeError(f"the credentialed serve ended: see {log}")
    req = urllib.request.Request(
        ready["urls"], headers={"Authorization": f"Bearer {ready['token']}"}
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        first = json.loads(r.read())[0]
    return proc, {"port": ready["rtsp_port"], "url": first["streams"]["main"]["url"],
                  "password": password}  # fmt: skip


def stop_serve(proc: subprocess.Popen) -> None:
    proc.terminate()
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(30)
    if proc.poll() is None:
        proc.kill()
