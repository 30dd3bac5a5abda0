"""The soak's hostile requests against `camsim serve` (issue 16, item 6): the short ones and
the helpers benchmarks/lingerers.py, trickle.py and viewers.py share.

A short hostile request goes on a connection of its own, and the first line of its answer is
read: garbage RTSP (random bytes, non-ASCII digits in Content-Length, CSeq and Transport, URLs
a server must refuse, bare LF, oversized heads, bodies and URLs, methods and versions it does
not serve) and garbage for the control API (unauthenticated and wrongly authenticated
state-changing requests, oversized and deeply nested bodies, oversized heads, bad lengths).
The state-changing requests carry a valid fault body: only the missing credentials should stop
them (401). Bodies sent with the right token are never a valid request. Each `Case` names the
answers its kind expects (status code, "no answer" within the read timeout, "closed",
"reset").
"""

from __future__ import annotations

import json
import os
import random
import re
import socket
from dataclasses import dataclass
from pathlib import Path

READ_TIMEOUT_S = 2.0  # for the first line of an answer to a short hostile request
EXAMPLES = 30  # unexpected answers kept as examples
TCP_STATES = {1: "open", 7: "reset", 8: "closed"}  # tcpi_state: ESTABLISHED, CLOSE, CLOSE_WAIT


def write_json(path: Path, data: object) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1))
    tmp.replace(path)


def read_status(path: Path) -> dict:
    """What a trickle or viewers process last wrote ({} before it wrote anything)."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def tcp_state(sock: socket.socket) -> str:
    """The kernel's view of a connection: open, reset (by the peer), closed (by the peer)."""
    try:
        info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)
    except OSError:
        return "reset"
    return TCP_STATES.get(info[0], f"state {info[0]}")


# -- the short hostile requests ----------------------------------------------------------------

TCP = "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n"  # a recorder's SETUP
NON_ASCII_DIGITS = ("١٢", "²", "𝟗", "٣٤", "१०", "5\u0660")


def rtsp(method: str, url: str, headers: str = "CSeq: 1\r\n", body: bytes = b"") -> bytes:
    return f"{method} {url} RTSP/1.0\r\n{headers}\r\n".encode() + body


def _http(method: str, path: str, headers: str = "", body: bytes = b"", length: str = "") -> bytes:
    n = length or str(len(body))
    return (
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}Content-Length: {n}\r\n\r\n"
    ).encode() + body


@dataclass
class Case:
    """One hostile request: its kind, a label, the bytes, where, and the answers it may get."""

    kind: str
    label: str
    data: bytes
    api: bool
    expected: tuple[str, ...]


def rtsp_cases(rng: random.Random, url: str) -> list[Case]:
    """Hostile RTSP requests at a camera's stream URL (one of each kind)."""
    d = rng.choice(NON_ASCII_DIGITS)
    track = url + "/trackID=0"
    garbage = os.urandom(rng.randint(1, 1500))
    lead = rng.choice((b"", b"O", b"DESCRIBE ", b"$"))
    bad_url, bad_ok = rng.choice((
        ("rtsp://[::1/cam/main", ("400",)), ("rtsp://127.0.0.1:99999/x", ("400",)),
        (url + "/caméra", ("400",)), ("http://[zz]/", ("400",)), (url + "\x7f", ("400",)),
        ("rtsp://127.0.0.1:-1/x", ("400",)), ("http://127.0.0.1/x", ("400", "200")),
        (url + "%00", ("404", "200")),  # a stream's name with %00: unknown (OPTIONS: 200)
    ))  # fmt: skip
    lf = rng.choice((
        (f"OPTIONS {url}\nX RTSP/1.0\r\nCSeq: 1\r\n\r\n".encode(), ("400",)),
        # a bare LF ends a line (RFC 2326 section 4): these two are valid
        (f"OPTIONS {url} RTSP/1.0\r\nCSeq: 1\nX-Y: z\r\n\r\n".encode(), ("200",)),
        (f"DESCRIBE {url} RTSP/1.0\nCSeq: 1\n\n".encode(), ("200",)),
    ))  # fmt: skip
    big = rng.choice((
        ("head of 9,000 bytes", rtsp("OPTIONS", url, "CSeq: 1\r\nX-Pad: " + "a" * 9000 + "\r\n"),
         ("400", "reset")),
        ("URL of 3,000 bytes", rtsp("OPTIONS", url + "/" + "b" * 3000), ("414",)),
        ("100 headers", rtsp("OPTIONS", url, "CSeq: 1\r\n" + "X-A: b\r\n" * 100), ("400",)),
        ("body of 5,000 bytes", rtsp("SET_PARAMETER", url, "CSeq: 1\r\nContent-Length: 5000\r\n",
                                      b"c" * 5000), ("413", "reset")),
        ("Content-Length of 20 digits", rtsp("OPTIONS", url,
                                              "CSeq: 1\r\nContent-Length: " + "9" * 20 + "\r\n"),
         ("400",)),
    ))  # fmt: skip
    odd = rng.choice((
        ("RECORD", rtsp("RECORD", url), ("405",)),
        ("method FOO", rtsp("FOO", url), ("501",)),
        ("RTSP/2.0", f"OPTIONS {url} RTSP/2.0\r\nCSeq: 1\r\n\r\n".encode(), ("505",)),
        ("no CSeq", rtsp("OPTIONS", url, ""), ("400",)),
        ("PLAY without a session", rtsp("PLAY", url), ("454",)),
        ("SETUP of an unknown camera",
         rtsp("SETUP", url.rsplit("/", 2)[0] + "/nope/main", "CSeq: 1\r\n" + TCP), ("404",)),
        ("SETUP multicast only",
         rtsp("SETUP", track, "CSeq: 1\r\nTransport: RTP/AVP;multicast\r\n"), ("461",)),
    ))  # fmt: skip
    return [
        Case("rtsp random bytes", f"{len(garbage)} bytes after {lead!r}", lead + garbage, False,
             ("400", "no answer", "closed", "reset")),
        Case("rtsp non-ASCII digits", f"Content-Length: {d}",
             rtsp("OPTIONS", url, f"CSeq: 1\r\nContent-Length: {d}\r\n"), False, ("400",)),
        Case("rtsp non-ASCII digits", f"CSeq: {d}", rtsp("OPTIONS", url, f"CSeq: {d}\r\n"),
             False, ("400",)),
        Case("rtsp non-ASCII digits", f"Transport client_port={d}",
             rtsp("SETUP", track, f"CSeq: 1\r\nTransport: RTP/AVP;client_port={d}-{d}\r\n"),
             False, ("400",)),
        Case("rtsp non-ASCII digits", f"Transport interleaved={d}",
             rtsp("SETUP", track, f"CSeq: 1\r\nTransport: RTP/AVP/TCP;interleaved={d}\r\n"),
             False, ("400",)),
        Case("rtsp bad URL", bad_url[-30:], rtsp(rng.choice(("OPTIONS", "DESCRIBE")), bad_url),
             False, bad_ok),
        Case("rtsp bare LF", lf[0][:30].decode(errors="replace"), lf[0], False, lf[1]),
        Case("rtsp oversized", big[0], big[1], False, big[2]),
        Case("rtsp method, version", odd[0], odd[1], False, odd[2]),
    ]  # fmt: skip


def api_cases(rng: random.Random, camera: str, token: str) -> list[Case]:
    """Hostile control API requests (a valid fault body, so only missing credentials stop it)."""
    fault = json.dumps({"kind": "stream_freeze", "duration_s": 1}).encode()
    path = f"/api/cameras/{camera}/faults"
    auth = f"Authorization: Bearer {token}\r\n"
    other = token[:-1] + ("A" if token[-1] != "A" else "B")
    wrong = rng.choice((
        ("no Authorization", ""),
        ("wrong bearer", f"Authorization: Bearer {other}\r\n"),
        ("empty bearer", "Authorization: Bearer\r\n"),
        ("Basic without --user", "Authorization: Basic Y2Ftc2ltOmNhbXNpbQ==\r\n"),
        ("bearer of 5,000 bytes", "Authorization: Bearer " + "x" * 5000 + "\r\n"),
        ("non-ASCII bearer", "Authorization: Bearer " + "é" * 10 + "\r\n"),
        ("Digest", 'Authorization: Digest username="a", nonce="1", uri="/", response="2"\r\n'),
    ))  # fmt: skip
    unauth = rng.choice((
        ("POST faults", _http("POST", path, wrong[1], fault)),
        ("POST timeline/start", _http("POST", "/api/timeline/start", wrong[1])),
        ("DELETE a camera", _http("DELETE", f"/api/cameras/{camera}", wrong[1])),
        ("PUT faults", _http("PUT", path, wrong[1], fault)),
    ))  # fmt: skip
    n = rng.randint(5, 3000)
    nested = rng.choice((
        (f"{n} [", b"[" * n, ("400",)),
        (f"{n // 6} nested objects", b'{"a":' * (n // 6) + b"1" + b"}" * (n // 6), ("400",)),
        ("30,000 [", b"[" * 30000, ("413", "reset")),
        ("NaN", b'{"kind": "stream_freeze", "duration_s": NaN}', ("400",)),
        ("invalid UTF-8", b'{"kind": "\xff\xfe"}', ("400",)),
        ("5,000-digit number", b'{"kind": "stream_freeze", "duration_s": ' + b"9" * 4000 + b"}",
         ("400",)),
        ("a list of faults", b'[{"kind": "stream_freeze"}]', ("400",)),
    ))  # fmt: skip
    big = rng.choice((
        ("body of 5,000 bytes", _http("POST", path, auth, b" " * 5000), ("413", "reset")),
        ("Content-Length of 12 digits", _http("POST", path, auth, length="999999999999"),
         ("413",)),
        ("non-ASCII Content-Length", _http("POST", path, auth, length="١٢"), ("400",)),
        ("chunked", _http("POST", path, auth + "Transfer-Encoding: chunked\r\n"), ("501",)),
        ("head of 10,000 bytes", _http("GET", "/api/health", "X-Pad: " + "a" * 10000 + "\r\n"),
         ("431", "reset")),
        ("unauthenticated body of 5,000 bytes", _http("POST", path, "", b" " * 5000),
         ("401", "reset")),
    ))  # fmt: skip
    garbage = os.urandom(rng.randint(1, 1500)) + b"\r\n\r\n"
    return [
        # a non-ASCII head is refused before its credentials are read: 400
        Case(
            "api unauthenticated",
            f"{unauth[0]}, {wrong[0]}",
            unauth[1],
            True,
            ("401", "400") if wrong[0] == "non-ASCII bearer" else ("401",),
        ),  # fmt: skip
        Case("api nested body", nested[0], _http("POST", path, auth, nested[1]), True, nested[2]),
        Case("api oversized", big[0], big[1], True, big[2]),
        Case(
            "api garbage",
            f"{len(garbage)} random bytes",
            garbage,
            True,
            ("400", "431", "closed", "reset"),
        ),
    ]


def exchange(port: int, data: bytes, timeout: float = READ_TIMEOUT_S) -> str:
    """Send `data` on a new connection; the answer's status code, or what happened instead."""
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    except OSError as exc:
        return f"connect: {type(exc).__name__}"
    with s:
        sent_error = None
        try:
            s.sendall(data)
        except OSError as exc:  # the server answered and closed before taking it all
            sent_error = exc
        head = b""
        try:
            while b"\n" not in head and len(head) < 256:
                chunk = s.recv(256)
                if not chunk:
                    break
                head += chunk
        except TimeoutError:
            if not head:
                return "no answer"
        except ConnectionResetError:
            if not head:
                return "reset"
        m = re.match(rb"(?:RTSP|HTTP)/1\.[01] (\d{3}) ", head)
        if m:
            return m.group(1).decode()
        if not head:
            return "reset" if sent_error else "closed"
        return "other: " + head[:20].decode(errors="replace")
