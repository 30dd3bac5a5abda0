"""The control API's request and JSON handling, without sockets: any bytes as a body get an
answer (2xx or 4xx, one bounded JSON line), never an exception; bounds on size, depth and
types; nothing from the request is echoed back whole."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import FUZZ, json_values, scalars

from simulator.streams.api import _Http
from simulator.streams.applier import FaultApplier, FaultState, Replay
from simulator.streams.http import MAX_BODY, MAX_DEPTH, MAX_ERROR, ApiAuth
from simulator.timeline import ReplayClock
from simulator.timeline.kinds import KINDS

TOKEN = "t0ken"
CAMERAS = ("a1", "a2")


class FakeTransport:
    """What a protocol writes, and whether it closed."""

    def __init__(self) -> None:
        self.out = bytearray()
        self.closed = False

    def write(self, data: bytes) -> None:
        assert not self.closed, "written after close"
        self.out += data

    def close(self) -> None:
        self.closed = True

    abort = close

    def is_closing(self) -> bool:
        return self.closed


@dataclass
class StubServer:
    """The parts of a CameraServer the API's POSTs use."""

    states: dict[str, FaultState] = field(
        default_factory=lambda: {c: FaultState() for c in CAMERAS}
    )
    replay: Replay = field(default_factory=lambda: Replay([], ReplayClock()))

    def __post_init__(self) -> None:
        self.faults = FaultApplier(self.states, dict.fromkeys(CAMERAS, "d"), set(), lambda _: None)

    def inject(self, event: Any) -> None:
        self.faults.apply(event, 0.0)

    def start_replay(self) -> None:
        self.replay.started = True


def exchange(
    server: StubServer, request: bytes, chunks: int = 1, auth: ApiAuth | None = None
) -> tuple[int, dict[str, str], bytes]:
    """Feed one request to the API in `chunks` pieces: (status, headers, body) of its answer."""

    async def run() -> FakeTransport:
        proto = _Http(server, auth or ApiAuth(TOKEN))  # type: ignore[arg-type]
        t = FakeTransport()
        proto.connection_made(t)  # type: ignore[arg-type]
        step = max(1, len(request) // chunks)
        for i in range(0, len(request), step):
            proto.data_received(request[i : i + step])
        proto.connection_lost(None)
        return t

    t = asyncio.run(run())
    assert t.closed, "every request is answered and the connection closed"
    head, _, body = bytes(t.out).partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(": ")
        headers.setdefault(k.lower(), v)
    return int(lines[0].split(" ")[1]), headers, body


def post(path: str, body: bytes, auth: str = f"Bearer {TOKEN}") -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nAuthorization: {auth}\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


def error_of(body: bytes) -> str:
    answer = json.loads(body)
    assert set(answer) == {"error"} and len(answer["error"]) <= MAX_ERROR
    assert "\n" not in answer["error"]
    return answer["error"]


kinds = st.sampled_from([*KINDS, "meteor", "", "x" * 500])
fault_bodies = st.builds(
    lambda kind, params: json.dumps({"kind": kind, **params}).encode(),
    kinds,
    st.dictionaries(st.sampled_from(["duration_s", "factor", "offset_s", "ms", "rate", "percent",
                                     "operator", "zz"]), scalars, max_size=4),
)  # fmt: skip
bodies = st.one_of(
    st.binary(max_size=MAX_BODY + 100),
    json_values.map(lambda v: json.dumps(v).encode()),
    fault_bodies,
    st.integers(1, 3 * MAX_BODY).map(lambda n: b"[" * n),
    st.integers(1, 3 * MAX_BODY).map(lambda n: b'{"a":' * n),
)


@FUZZ
@given(
    body=bodies,
    path=st.sampled_from(["/api/cameras/a1/faults", "/api/cameras/nope/faults",
                          "/api/timeline/start", "/api/cameras/" + "z" * 3000 + "/faults"]),
    chunks=st.integers(1, 4),
    authorized=st.booleans(),
)  # fmt: skip
def test_any_body_gets_a_bounded_answer(
    body: bytes, path: str, chunks: int, authorized: bool
) -> None:
    server = StubServer()
    auth = f"Bearer {TOKEN}" if authorized else "Bearer nope"
    status, headers, answer = exchange(server, post(path, body, auth), chunks)
    assert 200 <= status < 500, (status, answer[:200])
    if status >= 400:
        error_of(answer)
    if not authorized:
        assert status == 401 and "bearer" in headers["www-authenticate"].lower()
    offsets = [s.clock_offset_s for s in server.states.values()]
    assert all(abs(o) <= 1e9 for o in offsets)


def test_thirty_thousand_brackets_are_refused_by_size_without_reading_them() -> None:
    status, _, answer = exchange(StubServer(), post("/api/cameras/a1/faults", b"[" * 30_000), 7)
    assert status == 413 and str(MAX_BODY) in error_of(answer)


def test_deep_nesting_within_the_size_is_a_400_naming_the_depth() -> None:
    for body in (b"[" * 3000, b"[" * 2000 + b"]" * 2000, b'{"kind":' * 500):
        status, _, answer = exchange(StubServer(), post("/api/cameras/a1/faults", body))
        assert status == 400 and f"nested deeper than {MAX_DEPTH} levels" in error_of(answer)


def test_types_and_numbers_are_checked_naming_what_is_allowed() -> None:
    for body in (b"[1]", b'{"kind": ["stream_freeze"]}', b'{"kind": "jitter", "ms": {"x": 1}}',
                 b'{"kind": "jitter", "ms": NaN}', b'{"kind": "jitter", "ms": 1e999}',
                 b'{"kind": "jitter", "ms": ' + b"9" * 400 + b"}", b"\xff\xfe{}"):  # fmt: skip
        status, _, answer = exchange(StubServer(), post("/api/cameras/a1/faults", body))
        assert status == 400, body
        error = error_of(answer)
        assert "JSON object" in error or "finite" in error or "digits" in error, error


def test_long_names_are_not_echoed_whole() -> None:
    server = StubServer()
    kind = "k" * 3000
    status, _, answer = exchange(
        server, post("/api/cameras/a1/faults", f'{{"kind": "{kind}"}}'.encode())
    )
    assert (
        status == 400 and "k" * 41 not in error_of(answer) and "stream_freeze" in error_of(answer)
    )
    body = json.dumps({"kind": "jitter", "p" * 3000: 1}).encode()
    status, _, answer = exchange(server, post("/api/cameras/a1/faults", body))
    assert status == 400 and "p" * 41 not in error_of(answer) and "ms" in error_of(answer)
    status, _, answer = exchange(server, post("/api/cameras/" + "c" * 5000 + "/faults", b"{}"))
    assert status == 404 and "c" * 41 not in error_of(answer)


def test_a_clock_jump_beyond_the_total_is_refused() -> None:
    server = StubServer()
    jump = json.dumps({"kind": "clock_jump", "offset_s": 6e8}).encode()
    assert exchange(server, post("/api/cameras/a1/faults", jump))[0] == 202
    status, _, answer = exchange(server, post("/api/cameras/a1/faults", jump))
    assert status == 400 and "1e+09" in error_of(answer)
    assert server.states["a1"].clock_offset_s == 6e8


def test_timeline_start_takes_no_parameters() -> None:
    server = StubServer()
    assert exchange(server, post("/api/timeline/start", b'{"speed": 2}'))[0] == 400
    assert not server.replay.started
    assert exchange(server, post("/api/timeline/start", b"{}"))[0] == 202
    assert server.replay.started


def test_bad_lengths_and_chunked_bodies() -> None:
    head = f"POST /api/timeline/start HTTP/1.1\r\nAuthorization: Bearer {TOKEN}\r\n"
    for extra, status in (("Content-Length: -1\r\n", 400), ("Content-Length: 1_0\r\n", 400),
                          ("Content-Length: " + "9" * 30 + "\r\n", 413),
                          ("Content-Length: 1\r\nContent-Length: 2\r\n", 400),
                          ("Transfer-Encoding: chunked\r\n", 501),
                          ("Accept: */*\r\nAccept: text/plain\r\n", 202)):  # fmt: skip
        assert exchange(StubServer(), (head + extra + "\r\n").encode())[0] == status, extra


def test_non_ascii_credentials_are_refused_as_credentials() -> None:
    for value in ("Bearer " + "é" * 10, "Basic " + "é" * 8, "Bearer " + TOKEN + "é"):
        request = post("/api/timeline/start", b"{}", value).decode().encode("utf-8")
        assert exchange(StubServer(), request)[0] == 401, value


@settings(max_examples=300, deadline=None)
@given(head=st.binary(max_size=1500), chunks=st.integers(1, 3))
def test_any_bytes_as_a_request_get_an_answer_and_change_nothing(head: bytes, chunks: int) -> None:
    server = StubServer()
    status, _, _ = exchange(server, head + b"\r\n\r\n", chunks)
    assert status < 500, (status, head[:80])
    assert not server.replay.started and server.faults.total == 0
