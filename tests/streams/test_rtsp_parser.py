"""Property tests of the RTSP request parser: it never fails in any other way than BadRequest,
it is independent of how the bytes are split, and it stays within its bounds."""

from __future__ import annotations

import string

from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.streams.protocol import (
    MAX_HEAD,
    BadRequest,
    Interleaved,
    RequestParser,
    RtspRequest,
    parse_transport,
)

METHODS = ["OPTIONS", "DESCRIBE", "SETUP", "PLAY", "PAUSE", "TEARDOWN", "GET_PARAMETER"]
token = st.text(string.ascii_letters + string.digits + "-", min_size=1, max_size=20)
value = st.text(string.ascii_letters + string.digits + " ;=/-.,:", max_size=60).map(str.strip)


@st.composite
def requests(draw) -> tuple[str, str, dict[str, str], bytes]:  # noqa: ANN001
    method = draw(st.sampled_from(METHODS))
    url = "rtsp://127.0.0.1:8554/" + draw(token) + "/main"
    headers = draw(st.dictionaries(token.map(str.lower), value, max_size=8))
    headers.pop("cseq", None)
    headers.pop("content-length", None)
    headers["cseq"] = str(draw(st.integers(0, 10**9)))
    body = draw(st.binary(max_size=200))
    return method, url, headers, body


def encode(method: str, url: str, headers: dict[str, str], body: bytes, eol: str = "\r\n") -> bytes:
    lines = [f"{method} {url} RTSP/1.0", *(f"{k}: {v}" for k, v in headers.items())]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    return (eol.join(lines) + eol + eol).encode() + body


def feed_in_pieces(data: bytes, cuts: list[int]) -> list[RtspRequest | Interleaved]:
    parser = RequestParser()
    out: list[RtspRequest | Interleaved] = []
    last = 0
    for cut in sorted({c % (len(data) + 1) for c in cuts}) + [len(data)]:
        out += parser.feed(data[last:cut])
        last = cut
    assert not parser.buf
    return out


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(requests(), st.sampled_from(["\r\n", "\n"])), min_size=1, max_size=4),
    st.lists(st.integers(0, 10**6), max_size=12),
)
def test_well_formed_requests_parse_the_same_however_split(drawn, cuts) -> None:  # noqa: ANN001
    """Lines ending in CRLF or in a bare LF alike."""
    reqs = [r for r, _ in drawn]
    data = b"".join(encode(*r, eol=eol) for r, eol in drawn)
    parsed = feed_in_pieces(data, cuts)
    assert len(parsed) == len(reqs)
    for got, (method, url, headers, body) in zip(parsed, reqs, strict=True):
        assert isinstance(got, RtspRequest)
        assert (got.method, got.url, got.body) == (method, url, body)
        assert got.cseq == headers["cseq"]
        for k, v in headers.items():
            assert got.headers[k] == v


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.one_of(requests(), st.binary(max_size=300)), min_size=1, max_size=5),
    st.lists(st.integers(0, 10**5)),
)
def test_interleaved_packets_between_requests(items, cuts) -> None:  # noqa: ANN001
    data = b""
    for item in items:
        data += (
            encode(*item)
            if isinstance(item, tuple)
            else b"$\x01" + len(item).to_bytes(2, "big") + item
        )
    parsed = feed_in_pieces(data, cuts)
    assert len(parsed) == len(items)
    for got, item in zip(parsed, items, strict=True):
        if isinstance(item, tuple):
            assert isinstance(got, RtspRequest) and got.body == item[3]
        else:
            assert got == Interleaved(1, item)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2 * MAX_HEAD), st.lists(st.integers(0, 10**5), max_size=8))
def test_arbitrary_bytes_only_ever_raise_bad_request(data, cuts) -> None:  # noqa: ANN001
    parser = RequestParser()
    last = 0
    try:
        for cut in sorted({c % (len(data) + 1) for c in cuts}) + [len(data)]:
            for msg in parser.feed(data[last:cut]):
                assert isinstance(msg, RtspRequest | Interleaved)
            last = cut
    except BadRequest as exc:
        assert 400 <= exc.status < 600
    assert len(parser.buf) <= MAX_HEAD + 4 + 65535 + 4


@settings(max_examples=100, deadline=None)
@given(st.integers(MAX_HEAD + 1, 4 * MAX_HEAD), st.sampled_from([b"a", b"\r\nX: y", b"OPTIONS "]))
def test_heads_beyond_the_limit_are_rejected(size, filler) -> None:  # noqa: ANN001
    parser = RequestParser()
    data = b"OPTIONS rtsp://x/ RTSP/1.0\r\nCSeq: 1\r\nX-Pad: " + filler * (size // len(filler))
    try:
        parser.feed(data)
    except BadRequest as exc:
        assert exc.status == 400
    else:
        raise AssertionError("an oversized head must be rejected")


@given(st.text(max_size=200))
def test_transport_parser_never_fails(text) -> None:  # noqa: ANN001
    try:
        tp = parse_transport(text)
    except BadRequest as exc:  # a port or channel that is not a number
        assert exc.status == 400
        return
    if tp is not None:
        assert all(0 <= c <= 255 for c in tp.channels)
        assert all(0 < p < 65536 for p in tp.ports) or tp.tcp


def test_transport_choices() -> None:
    assert parse_transport("RTP/AVP/TCP;unicast;interleaved=2-3").channels == (2, 3)
    udp = parse_transport("RTP/AVP;unicast;client_port=5000-5001")
    assert udp is not None and not udp.tcp and udp.ports == (5000, 5001)
    assert parse_transport("RTP/AVP;multicast;port=5000-5001") is None
    first = parse_transport("RTP/AVP;multicast, RTP/AVP/TCP;interleaved=0-1")
    assert first is not None and first.tcp
