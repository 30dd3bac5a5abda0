"""Fuzz targets (hypothesis) for what an RTSP client controls: the request parser, the
Transport header, the server's answer to whatever parses, and the Basic and Digest checks.

Any input ends in an RtspRequest or Interleaved packet, a 4xx answer (505 for a version), or an
AuthCheck; never in another exception, and never in a reply header that a request ends early.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from base64 import b64encode
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from strategies import FUZZ

from simulator.streams.auth import AuthCheck, Authenticator, answer_challenge, parse_challenge
from simulator.streams.pacer import Pacer
from simulator.streams.protocol import (
    REASONS,
    BadRequest,
    Interleaved,
    RequestParser,
    RtspRequest,
    parse_head,
    parse_transport,
    response,
)
from simulator.streams.rtsp import RtspConnection, RtspServer

REFUSALS = {400, 413, 414, 431, 505}

# characters that have broken parsers: separators, line ends, controls, digits that are not
# ASCII, a lone surrogate (not UTF-8 at all), brackets of IPv6 hosts
tricky = st.sampled_from(
    [*'0123456789abcXYZ:/@[]%?#;=,-. \t\r\n\x00\x7f"\\$', "é", "١", "²", "\u2028", "\ud800"]
)
text = st.text(tricky | st.characters(), max_size=60)
long = st.integers(0, 9000).map(lambda n: "1" * n)
number = st.one_of(
    st.integers(-5, 10**12).map(str), st.text(st.sampled_from("0123456789١٢²٠- +x"), max_size=12)
)
# no spaces in a URL: they only make a request line of four parts, refused early
in_url = st.text(tricky.filter(lambda ch: ch != " ") | st.characters(), max_size=12)
good_url = "rtsp://127.0.0.1:8554/h264cam-001/main"
url = st.one_of(
    st.just(good_url),
    st.builds(lambda host: f"rtsp://{host}/h264cam-001/main", in_url),
    st.builds(lambda host: f"rtsp://{host}:8554/h264cam-001/sub", in_url),
    st.builds(lambda host: f"rtsp://[{host}/h264cam-001/main", in_url),  # IPv6 hosts
    st.builds(lambda cut, x: good_url[:cut] + x + good_url[cut:], st.integers(0, 38), in_url),
    st.builds(lambda host, path: f"rtsp://{host}/{path}", in_url, in_url),
    text,
    st.integers(2000, 2100).map(lambda n: "rtsp://x/" + "a" * n),
)
transport = st.builds(
    lambda proto, params: ";".join([proto, *params]),
    st.sampled_from(["RTP/AVP", "RTP/AVP/TCP", "RTP/AVP/UDP", "rtp/avp/tcp"]) | text,
    st.lists(
        st.one_of(
            st.builds(lambda a, b: f"client_port={a}-{b}", number, number),
            st.builds(lambda a, b: f"interleaved={a}-{b}", number, number),
            st.builds(lambda a: f"client_port={a}", number),
            st.sampled_from(["unicast", "multicast", "mode=PLAY", 'mode="record"', "ttl=1"]),
            text,
        ),
        max_size=5,
    ),
).map(str)
KEY = b"fuzz-fuzz-fuzz-k"  # one secret, so the nonces drawn here are the checker's own
NONCE = Authenticator("admin", "s3cret", secret=KEY).challenges()[0].split('"')[3]
DIGEST = {
    "username": "admin",
    "realm": "camsim",
    "nonce": NONCE,
    "uri": "rtsp://127.0.0.1:8554/h264cam-001/main",
    "response": "0" * 32,
    "qop": "auth",
    "nc": "00000001",
    "cnonce": "c",
    "algorithm": "MD5",
}
# a well-formed answer with a field or two made hostile or left out, so that it gets as far
# as the nonce, the counts and the comparison of the response
digest = st.builds(
    lambda changes, dropped, quoted: (
        "Digest "
        + ", ".join(
            f'{k}="{v}"' if quoted else f"{k}={v}"
            for k, v in {**DIGEST, **changes}.items()
            if k not in dropped
        )
    ),
    st.dictionaries(
        st.sampled_from(list(DIGEST)) | text,
        text | long | number | st.just(NONCE + "0") | st.just(NONCE.upper()),
        max_size=2,
    ),
    st.sets(st.sampled_from(list(DIGEST)), max_size=2),
    st.booleans(),
)
credentials = st.builds(
    lambda user, password: f"{user}:{password}".encode("utf-8", "surrogatepass"),
    st.just("admin") | text,
    st.just("s3cret") | text,
)
basic = st.builds(
    lambda x: f"Basic {x}",
    st.one_of(credentials, st.binary(max_size=80)).map(lambda b: b64encode(b).decode()) | text,
)
authorization = st.one_of(digest, basic, text)
header_value = {
    "CSeq": number,
    "Content-Length": number,
    "Transport": transport,
    "Authorization": authorization,
    "Session": text,
}
known_header = st.sampled_from([*header_value, "X-Pad"]).flatmap(
    lambda name: st.tuples(st.just(name), header_value.get(name, text))
)
header = st.one_of(known_header, known_header, known_header, st.tuples(text, text))
method = st.sampled_from(
    ["OPTIONS", "DESCRIBE", "SETUP", "PLAY", "PAUSE", "TEARDOWN", "GET_PARAMETER", "RECORD", "FROB"]
)


@st.composite
def requests(draw: st.DrawFn) -> bytes:
    """Bytes close enough to a request to reach deep into the parser and the server: mostly
    well formed but for a field or two."""
    version = draw(st.sampled_from(["RTSP/1.0"] * 6 + ["RTSP/2.0", "HTTP/1.1"]))
    line = f"{draw(method)} {draw(url)} {version}"  # bad request lines: st.binary() does those
    headers = [("CSeq", draw(st.one_of(st.just("1"), st.just("1"), number)))]
    headers += draw(st.lists(header, max_size=3))
    head = "\r\n".join([line, *(f"{k}: {v}" for k, v in headers)]) + "\r\n\r\n"
    return head.encode("utf-8", "surrogatepass") + draw(st.binary(max_size=40))


def _pieces(data: bytes, cuts: list[int]) -> Iterator[bytes]:
    last = 0
    for cut in sorted({c % (len(data) + 1) for c in cuts}) + [len(data)]:
        yield data[last:cut]
        last = cut


def _well_formed(msg: RtspRequest | Interleaved) -> None:
    assert isinstance(msg, RtspRequest | Interleaved)
    if isinstance(msg, RtspRequest):
        assert msg.url.isascii() and msg.url.isprintable() and " " not in msg.url
        assert msg.cseq.isascii() and msg.cseq.isdigit()
        assert not any("\r" in v or "\n" in v for v in msg.headers.values())


# issue 16's findings, always tried
FOUND = [
    b"OPTIONS rtsp://[::1 RTSP/1.0\r\nCSeq: 1\r\n\r\n",
    b"DESCRIBE rtsp://127.0.0.1/h264cam-001/main?\nX:1 RTSP/1.0\r\nCSeq: 1\r\n\r\n",
    "OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nContent-Length: ²\r\n\r\n".encode(),
    "SETUP rtsp://127.0.0.1/h264cam-001/main/trackID=0 RTSP/1.0\r\nCSeq: 1\r\n"
    "Transport: RTP/AVP;unicast;client_port=4²\r\n\r\n".encode(),
]


@FUZZ
@given(st.one_of(requests(), st.binary(max_size=300)), st.lists(st.integers(0, 10**4), max_size=6))
@example(FOUND[0], []).via("issue 16")
@example(FOUND[1], []).via("issue 16")
@example(FOUND[2], []).via("issue 16")
def test_feed_gives_requests_or_a_refusal(data: bytes, cuts: list[int]) -> None:
    parser = RequestParser()
    try:
        for piece in _pieces(data, cuts):
            for msg in parser.feed(piece):
                _well_formed(msg)
    except BadRequest as exc:
        assert exc.status in REFUSALS, exc


@FUZZ
@given(st.one_of(requests(), st.binary(max_size=300)))
def test_parse_head_gives_a_request_or_a_refusal(data: bytes) -> None:
    head = data.split(b"\r\n\r\n")[0]
    try:
        _well_formed(parse_head(head))
    except BadRequest as exc:
        assert exc.status in REFUSALS, exc


@FUZZ
@given(transport | text)
def test_parse_transport_gives_a_transport_none_or_400(value: str) -> None:
    try:
        tp = parse_transport(value)
    except BadRequest as exc:
        assert exc.status == 400
        return
    if tp is not None:
        assert all(0 <= c <= 255 for c in tp.channels)
        assert tp.tcp or all(0 < p < 65536 for p in tp.ports)


@FUZZ
@given(text, text)
def test_reply_headers_never_carry_a_line_end(name: str, value: str) -> None:
    head = response(200, "1", [("Content-Base", value), ("X", name)]).split(b"\r\n\r\n")[0]
    lines = head.decode("utf-8", "surrogatepass").split("\r\n")
    assert len(lines) == 5 and not any("\r" in x or "\n" in x for x in lines)


@pytest.fixture(scope="module")
def bare() -> Iterator[list[RtspConnection]]:
    """Connections (without transports) to RTSP servers without streams, one with Digest
    credentials: what reaches handle()."""
    loop = asyncio.new_event_loop()

    async def make() -> list[RtspConnection]:
        pacer = Pacer(None)
        servers = RtspServer({}, pacer), RtspServer({}, pacer, Authenticator("admin", "s3cret"))
        return [RtspConnection(server) for server in servers]

    yield loop.run_until_complete(make())
    loop.close()


@FUZZ
@given(requests(), st.booleans())
def test_whatever_parses_gets_an_answer(bare, data: bytes, guarded: bool) -> None:  # noqa: ANN001
    conn = bare[guarded]
    try:  # the head alone: trailing bytes would only make a second, refused request
        messages = RequestParser().feed(data.split(b"\r\n\r\n")[0] + b"\r\n\r\n")
    except BadRequest:
        return
    for msg in messages:
        if not isinstance(msg, RtspRequest):
            continue
        try:
            status, headers, body = conn.server.methods.handle(conn, msg)
        except BadRequest as exc:
            assert exc.status in REFUSALS
            continue
        assert status in REASONS
        head = response(status, msg.cseq, headers, body).split(b"\r\n\r\n")[0]
        assert all(b"\r" not in x and b"\n" not in x for x in head.split(b"\r\n"))


@FUZZ
@given(method, url | st.just(DIGEST["uri"]), authorization, st.sampled_from(["digest", "basic"]))
def test_any_authorization_gets_a_verdict(m: str, u: str, value: str, scheme: str) -> None:
    auth = Authenticator("admin", "s3cret", scheme, secret=KEY)
    assert isinstance(auth.check(m, u, value), AuthCheck)


def _answer(auth: Authenticator, m: str, uri: str, password: str, nc: int) -> str:
    return answer_challenge(parse_challenge(auth.challenges()[0]), auth.user, password, m, uri, nc)


visible = st.text(  # a URL as parse_head lets it through (a quoted-string's " and \ aside)
    st.characters(min_codepoint=0x21, max_codepoint=0x7E, blacklist_characters='"\\'),
    min_size=1,
    max_size=80,
)
secret = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters='":\\'), max_size=20
)


@FUZZ
@given(method, visible, visible, secret, secret)
def test_a_digest_is_good_once_and_only_for_its_url(
    m: str, uri: str, other: str, user: str, password: str
) -> None:
    auth = Authenticator(user, password)
    good = _answer(auth, m, uri, password, 1)
    assert auth.check(m, uri, good) is AuthCheck.OK
    assert auth.check(m, uri, good) is AuthCheck.DENIED, "a replay"
    if other != uri:
        assert auth.check(m, other, _answer(auth, m, uri, password, 1)) is AuthCheck.DENIED
    assert auth.check(m, uri, _answer(auth, m, uri, password + "x", 1)) is AuthCheck.DENIED


@FUZZ
@given(secret.filter(lambda u: ":" not in u), secret, secret)
def test_basic_takes_exactly_the_credentials(user: str, password: str, guess: str) -> None:
    auth = Authenticator(user, password, "basic")

    def basic(u: str, p: str) -> str:
        return "Basic " + b64encode(f"{u}:{p}".encode()).decode()

    assert auth.check("DESCRIBE", "rtsp://x/", basic(user, password)) is AuthCheck.OK
    want = AuthCheck.OK if guess == password else AuthCheck.DENIED
    assert auth.check("DESCRIBE", "rtsp://x/", basic(user, guess)) is want


def test_transports_we_do_not_serve_are_skipped_whatever_their_ports() -> None:
    tp = parse_transport("RTP/SAVP;client_port=x, RTP/AVP;unicast;client_port=5000-5001")
    assert tp is not None and tp.ports == (5000, 5001)
    with pytest.raises(BadRequest) as exc:
        parse_transport("RTP/AVP;unicast;client_port=٥٠٠٠-٥٠٠١")
    assert exc.value.status == 400


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(requests())
@example(FOUND[0]).via("issue 16")
@example(FOUND[1]).via("issue 16")
@example(FOUND[2]).via("issue 16")
@example(FOUND[3]).via("issue 16")
def test_the_server_answers_whatever_comes_on_the_wire(served, caplog, data: bytes) -> None:  # noqa: ANN001
    """End to end, against real streams: the answer is RTSP or nothing (a request not yet
    whole), and nothing the server does for it logs an error (asyncio logs a handler's
    exception, then drops the connection without a word)."""
    with socket.create_connection(("127.0.0.1", served.port), timeout=10) as s:
        s.sendall(data.split(b"\r\n\r\n")[0] + b"\r\n\r\n")  # bytes after would be refused
        s.shutdown(socket.SHUT_WR)
        got = b""
        while chunk := s.recv(65536):
            got += chunk
    assert got[:9] in (b"", b"RTSP/1.0 ")
    head = got.split(b"\r\n\r\n")[0]
    assert all(b"\r" not in x and b"\n" not in x for x in head.split(b"\r\n")), head
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, errors[0]
