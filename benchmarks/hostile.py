"""A steady trickle of hostile requests against `camsim serve`, and well-behaved viewers that
time every frame: what benchmarks/bench_soak.py runs beside the lab (issue 16, item 6).

Both run in processes of their own, talk only to 127.0.0.1, keep bounded state and write what
they saw as JSON (`Trickle.status`, `Viewers.status`) every few seconds, for the benchmark to
read whenever it reports.

The trickle sends one short hostile request every `interval_s` (2 a second by default), each
on a connection of its own, and reads the first line of the answer: garbage RTSP (random
bytes, non-ASCII digits in Content-Length, CSeq and Transport, URLs a server must refuse, bare
LF, oversized heads, bodies and URLs, methods and versions it does not serve) and garbage for
the control API (unauthenticated and wrongly authenticated state-changing requests, oversized
and deeply nested bodies, oversized heads, bad lengths). The state-changing requests carry a
valid fault body: only the missing credentials should stop them (401). Bodies sent with the
right token are never a valid request. Beside them it keeps a few long-lived connections:
slow readers (SETUP over TCP, PLAY, then never read; half of them send a keep-alive every 20
s so the server cannot time them out) and idle connections (a byte every few seconds, never a
whole request), and records how and when each ended. Every request is counted by kind and
answer (status code, "no answer" within the read timeout, "closed", "reset"), and answers a
kind should not get are counted apart with a few examples.

The viewers (TCP interleaved, like a recorder) read their streams whole and note when each
frame's last RTP packet (marker bit) arrived: the gap between frames, worst per minute and the
worst ones with the timeline events (GET /api/timeline) applied to their camera, district or
link around them, which explain a gap. A viewer cut off reconnects; the gap spans the cut.
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import random
import re
import selectors
import socket
import struct
import threading
import time
import traceback
import urllib.request
from dataclasses import KW_ONLY, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import replay

from simulator.streams.rtp import SEI_FIELD, SEI_UUID, sei_time
from simulator.timeline.kinds import KINDS

READ_TIMEOUT_S = 2.0  # for the first line of an answer to a short hostile request
EXAMPLES = 30  # unexpected answers kept as examples
EXPLAIN_OVER_S = 0.15  # a minute's worst gap above this is matched with the timeline
OWN_STALL_S = 0.1  # the viewers' process noting its own loop stalls (it waited this long)
TCP_STATES = {1: "open", 7: "reset", 8: "closed"}  # tcpi_state: ESTABLISHED, CLOSE, CLOSE_WAIT


def _write_json(path: Path, data: object) -> None:
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


def _rtsp(method: str, url: str, headers: str = "CSeq: 1\r\n", body: bytes = b"") -> bytes:
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
        ("head of 9,000 bytes", _rtsp("OPTIONS", url, "CSeq: 1\r\nX-Pad: " + "a" * 9000 + "\r\n"),
         ("400", "reset")),
        ("URL of 3,000 bytes", _rtsp("OPTIONS", url + "/" + "b" * 3000), ("414",)),
        ("100 headers", _rtsp("OPTIONS", url, "CSeq: 1\r\n" + "X-A: b\r\n" * 100), ("400",)),
        ("body of 5,000 bytes", _rtsp("SET_PARAMETER", url, "CSeq: 1\r\nContent-Length: 5000\r\n",
                                      b"c" * 5000), ("413", "reset")),
        ("Content-Length of 20 digits", _rtsp("OPTIONS", url,
                                              "CSeq: 1\r\nContent-Length: " + "9" * 20 + "\r\n"),
         ("400",)),
    ))  # fmt: skip
    odd = rng.choice((
        ("RECORD", _rtsp("RECORD", url), ("405",)),
        ("method FOO", _rtsp("FOO", url), ("501",)),
        ("RTSP/2.0", f"OPTIONS {url} RTSP/2.0\r\nCSeq: 1\r\n\r\n".encode(), ("505",)),
        ("no CSeq", _rtsp("OPTIONS", url, ""), ("400",)),
        ("PLAY without a session", _rtsp("PLAY", url), ("454",)),
        ("SETUP of an unknown camera",
         _rtsp("SETUP", url.rsplit("/", 2)[0] + "/nope/main", "CSeq: 1\r\n" + TCP), ("404",)),
        ("SETUP multicast only",
         _rtsp("SETUP", track, "CSeq: 1\r\nTransport: RTP/AVP;multicast\r\n"), ("461",)),
    ))  # fmt: skip
    return [
        Case("rtsp random bytes", f"{len(garbage)} bytes after {lead!r}", lead + garbage, False,
             ("400", "no answer", "closed", "reset")),
        Case("rtsp non-ASCII digits", f"Content-Length: {d}",
             _rtsp("OPTIONS", url, f"CSeq: 1\r\nContent-Length: {d}\r\n"), False, ("400",)),
        Case("rtsp non-ASCII digits", f"CSeq: {d}", _rtsp("OPTIONS", url, f"CSeq: {d}\r\n"),
             False, ("400",)),
        Case("rtsp non-ASCII digits", f"Transport client_port={d}",
             _rtsp("SETUP", track, f"CSeq: 1\r\nTransport: RTP/AVP;client_port={d}-{d}\r\n"),
             False, ("400",)),
        Case("rtsp non-ASCII digits", f"Transport interleaved={d}",
             _rtsp("SETUP", track, f"CSeq: 1\r\nTransport: RTP/AVP/TCP;interleaved={d}\r\n"),
             False, ("400",)),
        Case("rtsp bad URL", bad_url[-30:], _rtsp(rng.choice(("OPTIONS", "DESCRIBE")), bad_url),
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


# -- the long-lived hostile connections ---------------------------------------------------------


@dataclass
class Lingerer:
    """A slow reader or an idle connection, kept until the server ends it or `cap_s`."""

    kind: str
    label: str
    sock: socket.socket
    started: float
    cap_s: float
    _: KW_ONLY
    drip: bytes = b""  # sent a byte at a time (whole when `whole`), every `every_s`
    every_s: float = 0.0
    whole: bool = False
    next_at: float = 0.0
    sent: int = 0

    def step(self, now: float) -> str | None:
        """Send its next byte if due; its fate when it ended (None while it lasts)."""
        state = tcp_state(self.sock)
        age = now - self.started
        if state != "open":
            return f"{state} after {_bucket(age)}"
        if age >= self.cap_s:
            return self._drain() if self.kind.startswith("slow") else f"open at {age:.0f} s"
        if self.every_s and now >= self.next_at:
            self.next_at = now + self.every_s
            i = self.sent % len(self.drip)
            byte = self.drip if self.whole else self.drip[i : i + 1]
            try:
                self.sock.send(byte)
                self.sent += 1
            except BlockingIOError:
                pass
            except OSError:
                return f"reset after {_bucket(age)}"
        return None

    def _drain(self, most: int = 4 << 20) -> str:
        """A slow reader's fate, read at last: the server's abort of a connection whose
        window is shut may send neither FIN nor RST until what it had queued is taken."""
        self.sock.settimeout(0.5)
        got, deadline = 0, time.monotonic() + 1.5
        try:
            while got < most and time.monotonic() < deadline:
                n = len(self.sock.recv(65536))
                if not n:
                    return f"ended (read at {self.cap_s:g} s)"
                got += n
        except TimeoutError:
            pass
        except OSError:
            return f"reset (read at {self.cap_s:g} s)"
        return f"streaming at {self.cap_s:g} s"


def _bucket(age: float) -> str:
    step = 5 if age < 30 else 15
    lo = int(age // step * step)
    return f"{lo}-{lo + step} s"


def slow_reader(port: int, url: str, keepalive: bool, cap_s: float) -> Lingerer | str:
    """SETUP over TCP and PLAY, then never read (a tiny receive buffer, so the server's send
    buffer and queue fill at once); the PLAY's answer if it was not 200."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(5)
    try:
        s.connect(("127.0.0.1", port))
        session = ""
        for i, (method, target, hdr) in enumerate((
            ("DESCRIBE", url, ""),
            ("SETUP", url + "/trackID=0", TCP),
            ("PLAY", url, None),
        )):  # fmt: skip
            hdr = f"Session: {session}\r\n" if hdr is None else hdr
            s.sendall(_rtsp(method, target, f"CSeq: {i + 1}\r\n{hdr}"))
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = s.recv(4096)
                if not chunk:
                    raise ConnectionResetError
                data += chunk
            head, _, rest = data.partition(b"\r\n\r\n")
            status = head.split(b" ", 2)[1].decode(errors="replace") if b" " in head else "?"
            if status != "200":
                s.close()
                return f"{method} {status}"
            m = re.search(rb"Content-Length: (\d+)", head)
            need = int(m.group(1)) if m else 0
            while len(rest) < need:
                rest += s.recv(4096)
            m = re.search(rb"Session: ([0-9A-Za-z]+)", head)
            session = m.group(1).decode() if m else session
    except OSError as exc:
        s.close()
        return f"handshake: {type(exc).__name__}"
    s.setblocking(False)
    now = time.monotonic()
    ping = _rtsp("GET_PARAMETER", url, f"CSeq: 9\r\nSession: {session}\r\n") if keepalive else b""
    kind = "slow reader, keep-alive" if keepalive else "slow reader, silent"
    camera = urlsplit(url).path.strip("/").split("/")[0]
    if keepalive:
        return Lingerer(kind, camera, s, now, cap_s, drip=ping, every_s=20.0, whole=True,
                        next_at=now + 20.0)  # fmt: skip
    return Lingerer(kind, camera, s, now, cap_s)


def idle(port: int, api: bool, url: str, rng: random.Random, cap_s: float) -> Lingerer | str:
    """A connection that sends a byte every few seconds and never a whole request."""
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
    except OSError as exc:
        return f"connect: {type(exc).__name__}"
    s.setblocking(False)
    if api:
        drip, kind = f"GET /api/health HTTP/1.1\r\nX-Pad: {'a' * 9000}".encode(), "idle API"
    else:
        drip, kind = rng.choice((
            (f"OPTIONS {url} RTSP/1.0\r\nCSeq: 1\r\nX-Pad: {'a' * 9000}".encode(),
             "idle RTSP, a request"),
            (b"\r\n", "idle RTSP, blank lines"),
        ))  # fmt: skip
    now = time.monotonic()
    label = url.rsplit("/", 2)[-2]
    return Lingerer(kind, label, s, now, cap_s, drip=drip, every_s=rng.uniform(3, 6), next_at=now)


# -- the trickle ---------------------------------------------------------------------------------


@dataclass
class Tally:
    """Requests by kind and answer, unexpected answers apart (bounded: kinds × answers)."""

    answers: dict[str, collections.Counter] = field(default_factory=dict)
    unexpected: dict[str, int] = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)

    def add(self, kind: str, answer: str, ok: bool = True, label: str = "") -> None:
        self.answers.setdefault(kind, collections.Counter())[answer[:60]] += 1
        if not ok:
            self.unexpected[kind] = self.unexpected.get(kind, 0) + 1
            example = f"{kind} ({label[:60]}): {answer[:60]}"
            if len(self.examples) < EXAMPLES and example not in self.examples:
                self.examples.append(example)

    def as_json(self) -> dict:
        return {
            "answers": {k: dict(v) for k, v in self.answers.items()},
            "unexpected": self.unexpected,
            "examples": self.examples,
        }


class Journal:
    """Every hostile request as a JSON line: wall time it began, kind, label, answer, and the
    seconds it took (what the soak matches with serve's loop stalls)."""

    def __init__(self, path: Path) -> None:
        self.f = open(path, "w", encoding="utf-8")  # noqa: SIM115 - closed by close()

    def write(self, t: float, kind: str, label: str, answer: str) -> None:
        row = {"t": round(t, 3), "took": round(time.time() - t, 3), "kind": kind,
               "label": label[:60], "answer": answer[:60]}  # fmt: skip
        self.f.write(json.dumps(row) + "\n")
        self.f.flush()

    def close(self) -> None:
        self.f.close()


def read_journal(path: Path) -> list[dict]:
    """The trickle's journal (empty when absent)."""
    try:
        with open(path, encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]
    except (OSError, ValueError):
        return []


def run_trickle(rtsp_port: int, api_port: int, token: str, urls: list[str], spare: list[str],
                stop, status: Path, interval_s: float = 0.5, slow: int = 4,
                idle_max: int = 8, seed: int = 16, replay_to: dict | None = None,
                replay_every_s: float = 30.0) -> None:  # fmt: skip
    """The trickle's process: until `stop` is set, one short hostile request every
    `interval_s` and up to `slow` slow readers and `idle_max` idle connections open; `urls`
    are the streams slow readers may take, `spare` those whose camera the unauthenticated
    fault requests name (not the viewers'); with `replay_to` ({"port", "url", "password"} of
    a serve asking for Digest credentials) a digest replay round every `replay_every_s`."""
    rng = random.Random(seed)
    tally = Tally()
    lingering: list[Lingerer] = []
    queue: list[Case] = []
    slow_cameras: collections.Counter = collections.Counter()
    errors: list[str] = []
    t0 = next_req = next_slow = next_idle = next_write = time.monotonic()
    next_replay = t0 + 10
    sent = 0
    journal = Journal(status.with_name(status.stem + "-requests.jsonl"))
    while not stop.is_set():
        now = time.monotonic()
        try:
            if now >= next_req:
                next_req += interval_s
                if not queue:
                    url = rng.choice(spare)
                    camera = urlsplit(url).path.strip("/").split("/")[0]
                    queue = rtsp_cases(rng, url) + api_cases(rng, camera, token)
                    rng.shuffle(queue)
                case = queue.pop()
                t = time.time()
                answer = exchange(api_port if case.api else rtsp_port, case.data)
                tally.add(case.kind, answer, answer in case.expected, case.label)
                journal.write(t, case.kind, case.label, answer)
                sent += 1
            if replay_to is not None and now >= next_replay:
                next_replay = now + replay_every_s
                t = time.time()
                for kind, label, answer in replay.replay_round(
                    replay_to["port"], replay_to["url"], replay_to["password"]
                ):
                    tally.add(kind, answer, answer in replay.KINDS.get(kind, ()), label)
                    journal.write(t, kind, label, answer)
            if now >= next_slow and sum(x.kind.startswith("slow") for x in lingering) < slow:
                next_slow = now + 15
                url = rng.choice(urls)
                keep = rng.random() < 0.5
                t = time.time()
                got = slow_reader(rtsp_port, url, keep, 150.0 if keep else 240.0)
                journal.write(t, "slow reader, keep-alive" if keep else "slow reader, silent",
                              url, got if isinstance(got, str) else "playing")  # fmt: skip
                if isinstance(got, str):
                    kind = "slow reader, keep-alive" if keep else "slow reader, silent"
                    tally.add(kind, got, False, url)
                else:
                    lingering.append(got)
                    slow_cameras[got.label] += 1
            if now >= next_idle and sum(x.kind.startswith("idle") for x in lingering) < idle_max:
                next_idle = now + 5
                api = rng.random() < 0.3
                t = time.time()
                got = idle(api_port if api else rtsp_port, api, rng.choice(spare), rng, 150.0)
                journal.write(t, "idle API" if api else "idle RTSP", "",
                              got if isinstance(got, str) else "open")  # fmt: skip
                if isinstance(got, str):
                    tally.add("idle API" if api else "idle RTSP", got, False)
                else:
                    lingering.append(got)
            for x in list(lingering):
                fate = x.step(now)
                if fate is not None:
                    lingering.remove(x)
                    x.sock.close()
                    # ended by the server, except a keep-alive slow reader: its session
                    # is alive and its drops are the target's (the server may keep it)
                    expected = x.kind == "slow reader, keep-alive" or fate.startswith(
                        ("ended", "reset", "closed")
                    )
                    tally.add(x.kind, fate, expected, x.label)
                    journal.write(time.time(), x.kind, x.label, f"ended: {fate}")
        except Exception as exc:  # noqa: BLE001 - the benchmark's own bug: noted, not fatal
            line = "".join(traceback.format_exception_only(exc)).strip()
            if len(errors) < 20:
                errors.append(line[:200])
        if now >= next_write:
            next_write = now + 5
            _write_json(status, {
                "t": time.time(), "elapsed_s": now - t0, "sent": sent,
                "lingering": collections.Counter(x.kind for x in lingering),
                "slow_reader_cameras": dict(slow_cameras.most_common(200)),
                "errors": errors, **tally.as_json(),
            })  # fmt: skip
        time.sleep(max(0.0, min(next_req, now + 0.5) - time.monotonic()))
    for x in lingering:
        x.sock.close()
    journal.close()
    _write_json(status, {
        "t": time.time(), "elapsed_s": time.monotonic() - t0, "sent": sent, "lingering": {},
        "slow_reader_cameras": dict(slow_cameras.most_common(200)), "errors": errors,
        **tally.as_json(),
    })  # fmt: skip


# -- the well-behaved viewers ---------------------------------------------------------------------


@dataclass
class Viewer:
    """One TCP interleaved session read whole; frames timed by their RTP marker bit."""

    url: str
    camera: str
    district: str
    sock: socket.socket | None = None
    session: str = ""
    buf: bytearray = field(default_factory=bytearray)
    last_frame: float | None = None  # wall time of the last frame's end
    frames: int = 0
    reconnects: int = 0
    next_ping: float = 0.0
    next_try: float = 0.0
    # minute of the run → its worst gap: (gap, wall time of the frame before, of the frame
    # after, the gap between their send times in their SEI: the server's own share)
    by_minute: dict[int, tuple[float, float, float, float]] = field(default_factory=dict)
    worst: list[tuple[float, float, float, float]] = field(default_factory=list)
    sent: float | None = None  # the send time in the SEI of the frame being read
    last_sent: float | None = None  # of the last frame read whole
    in_frame: bool = False  # a packet of the current frame was read

    def connect(self, port: int) -> None:
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        session = ""
        for i, (method, target, hdr) in enumerate((
            ("DESCRIBE", self.url, ""),
            ("SETUP", self.url + "/trackID=0", TCP),
            ("PLAY", self.url, None),
        )):  # fmt: skip
            hdr = f"Session: {session}\r\n" if hdr is None else hdr
            s.sendall(_rtsp(method, target, f"CSeq: {i + 1}\r\n{hdr}"))
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = s.recv(65536)
                if not chunk:
                    raise ConnectionResetError(f"{method}: closed")
                data += chunk
            head, _, rest = data.partition(b"\r\n\r\n")
            if not head.startswith(b"RTSP/1.0 200"):
                s.close()
                raise ConnectionRefusedError(f"{method}: {head[:30]!r}")
            m = re.search(rb"Content-Length: (\d+)", head)
            need = int(m.group(1)) if m else 0
            while len(rest) < need:
                rest += s.recv(65536)
            m = re.search(rb"Session: ([0-9A-Za-z]+)", head)
            session = m.group(1).decode() if m else session
            if method == "PLAY":
                self.buf = bytearray(rest[need:])
        s.setblocking(False)
        self.sock, self.session = s, session
        self.next_ping = time.monotonic() + 20

    def drop(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self.sock = None
        self.reconnects += 1
        self.next_try = time.monotonic() + 1

    def feed(self, data: bytes, now: float, t0: float, keep: int = 10) -> bool:
        """Take bytes; False when the stream lost its framing."""
        self.buf += data
        buf, i, n = self.buf, 0, len(self.buf)
        while i < n:
            if buf[i] == 0x24:
                if n - i < 4:
                    break
                size = struct.unpack_from(">H", buf, i + 2)[0]
                if n - i < 4 + size:
                    break
                if buf[i + 1] == 0 and size >= 2:
                    if not self.in_frame:  # a frame's first packet: its SEI, if any
                        self.in_frame = True
                        j = buf.find(SEI_UUID, i + 16, i + 4 + size)
                        end = j + len(SEI_UUID) + SEI_FIELD
                        if j >= 0 and end <= i + 4 + size:
                            self.sent = sei_time(buf[j + len(SEI_UUID) : end])
                    if buf[i + 5] & 0x80:
                        self.in_frame = False
                        self._frame(now, t0, keep)
                i += 4 + size
            elif buf.startswith(b"RTSP/1.0 ", i):
                end = buf.find(b"\r\n\r\n", i)
                if end < 0:
                    break
                m = re.search(rb"Content-Length: (\d+)", bytes(buf[i:end]))
                i = end + 4 + (int(m.group(1)) if m else 0)
            else:
                del buf[:]
                return False
        del buf[: min(i, n)]
        return True

    def _frame(self, now: float, t0: float, keep: int) -> None:
        self.frames += 1
        sent, self.sent = self.sent, None
        if self.last_frame is not None:
            gap = now - self.last_frame
            send_gap = -1.0 if sent is None or self.last_sent is None else sent - self.last_sent
            minute = int((now - t0) // 60)
            if gap > self.by_minute.get(minute, (0.0,))[0]:
                self.by_minute[minute] = (gap, self.last_frame, now, send_gap)
            if len(self.worst) < keep or gap > self.worst[-1][0]:
                self.worst.append((gap, self.last_frame, now, send_gap))
                self.worst.sort(reverse=True)
                del self.worst[keep:]
        self.last_frame, self.last_sent = now, sent


def _follow(api: str, events: dict[int, dict], errors: list[str], lock: threading.Lock,
            stop) -> None:  # fmt: skip
    """Fetch the timeline's applied events every 3 s into `events` (the last 2000), in a
    thread of its own: a slow answer from serve must not hold up the frames' timing."""
    while not stop.is_set():
        seen: dict[int, dict] = {}
        try:
            _events(api, seen)
        except (OSError, ValueError) as exc:
            with lock:
                if len(errors) < 20:
                    errors.append(f"timeline: {type(exc).__name__}")
        with lock:
            for k, a in seen.items():
                events.setdefault(k, a)
            while len(events) > 2000:
                events.pop(min(events))
        stop.wait(3)


def _events(api: str, seen: dict[int, dict]) -> None:
    """Add the timeline's applied events not seen yet (bounded by the caller)."""
    with urllib.request.urlopen(api.rstrip("/") + "/api/timeline", timeout=10) as r:
        for a in json.loads(r.read())["applied"]:
            seen.setdefault(a["seq"], a)


def explain(v: Viewer, start: float, end: float, events: dict[int, dict], slack: float = 2.0
            ) -> list[str]:  # fmt: skip
    """The timeline events applied around a gap to the viewer's camera, its district, a link or
    the city (a link's cameras are not known here: any link counts); operators' actions do not
    touch the stream."""
    out = []
    for a in events.values():
        kind = KINDS.get(a.get("kind", ""))
        if kind is not None and kind.family == "action":
            continue
        until = a.get("until") or a["wall"]
        if a["wall"] > end + slack or until < start - slack:
            continue
        if a.get("camera") not in (None, v.camera):
            continue
        if a.get("district") not in (None, v.district):
            continue
        out.append(f"{a['kind']}@{a['wall'] - start:+.1f}s")
    return out


def run_viewers(rtsp_port: int, api: str, cams: list[tuple[str, str, str]], stop,
                status: Path, keep: int = 10) -> None:  # fmt: skip
    """The viewers' process: one viewer per (url, camera, district) until `stop` is set."""
    viewers = [Viewer(u, c, d) for u, c, d in cams]
    events: dict[int, dict] = {}
    errors: list[str] = []
    sel = selectors.DefaultSelector()
    t0 = time.time()
    next_write = time.monotonic()
    lock = threading.Lock()
    threading.Thread(target=_follow, args=(api, events, errors, lock, stop), daemon=True).start()
    buf = bytearray(1 << 18)
    # this process's own stalls, the last 500: [wall time, seconds of work outside select,
    # seconds runnable but waiting for a CPU, the part of the loop that took longest (its
    # seconds)] when either was over OWN_STALL_S
    own: list[list[float]] = []
    sched = os.open("/proc/thread-self/schedstat", os.O_RDONLY)
    wait0 = int(os.pread(sched, 96, 0).split()[1]) / 1e9
    after = time.monotonic()  # when the last select returned
    parts: dict[str, float] = {}  # the last loop's work outside select, by part
    while not stop.is_set():
        mono = time.monotonic()
        for v in viewers:
            if v.sock is None and mono >= v.next_try:
                try:
                    v.connect(rtsp_port)
                    sel.register(v.sock, selectors.EVENT_READ, v)
                except OSError as exc:
                    v.sock = None
                    v.next_try = mono + 2
                    if len(errors) < 20:
                        errors.append(f"{v.camera}: {type(exc).__name__}: {str(exc)[:80]}")
            if v.sock is not None and mono >= v.next_ping:
                v.next_ping = mono + 20
                with contextlib.suppress(OSError):
                    v.sock.send(
                        _rtsp("GET_PARAMETER", v.url, f"CSeq: 9\r\nSession: {v.session}\r\n")
                    )
        picked = time.monotonic()
        parts["connect"] = picked - mono
        ready = sel.select(0.2)
        wait1 = int(os.pread(sched, 96, 0).split()[1]) / 1e9
        if wait1 - wait0 > OWN_STALL_S or picked - after > OWN_STALL_S:
            part = max(parts, key=parts.__getitem__)
            own.append([round(time.time(), 3), round(picked - after, 3), round(wait1 - wait0, 3),
                        f"{part} {parts[part]:.3f}"])  # fmt: skip
            del own[:-500]
        parts.clear()
        wait0, after = wait1, time.monotonic()
        for key, _ in ready:
            v = key.data
            try:
                n = v.sock.recv_into(buf)
            except BlockingIOError:
                continue
            except OSError:
                n = 0
            if not n or not v.feed(bytes(buf[:n]), time.time(), t0, keep):
                sel.unregister(v.sock)
                v.drop()
        parts["read"] = time.monotonic() - after
        if mono >= next_write:
            next_write = mono + 5
            w = time.monotonic()
            with lock:
                _write_json(status, _viewers_json(viewers, events, errors, t0, own))
            parts["write"] = time.monotonic() - w
    os.close(sched)
    for v in viewers:
        if v.sock is not None:
            v.sock.close()
    _write_json(status, _viewers_json(viewers, events, errors, t0, own))


def _viewers_json(viewers: list[Viewer], events: dict[int, dict], errors: list[str],
                  t0: float, own: list[list[float]]) -> dict:  # fmt: skip
    return {
        "t0": t0,
        "errors": errors,
        "own_stalls": own,
        "viewers": [
            {
                "camera": v.camera,
                "frames": v.frames,
                "reconnects": v.reconnects,
                "by_minute": {
                    m: [
                        round(g, 4),
                        round(a - t0, 1),
                        explain(v, a, b, events) if g > EXPLAIN_OVER_S else [],
                        round(sg, 4),
                    ]
                    for m, (g, a, b, sg) in v.by_minute.items()
                },  # fmt: skip
                "worst": [
                    {
                        "gap_s": round(g, 4),
                        "at_s": round(a - t0, 3),
                        "send_gap_s": round(sg, 4),
                        "events": explain(v, a, b, events),
                    }
                    for g, a, b, sg in v.worst
                ],  # fmt: skip
            }
            for v in viewers
        ],
    }
