"""Camera credentials under attack: hostile Authorization headers, replayed digests, stale
nonces, and whether a 401 tells an unauthenticated client which cameras exist."""

from __future__ import annotations

import time
from base64 import b64encode

import pytest

from simulator.streams.auth import (
    AuthCheck,
    Authenticator,
    answer_challenge,
    digest_response,
    parse_challenge,
)
from simulator.streams.client import RtspClient
from simulator.timeline.event import Event


def _challenge(c: RtspClient, url: str) -> dict[str, str]:
    answer = c.request("DESCRIBE", url)
    assert answer.status == 401
    return parse_challenge(answer.headers["www-authenticate"])


def _digest(p: dict[str, str], method: str, uri: str, nc: int = 1, password: str = "s3cret") -> str:
    return answer_challenge({**p, "scheme": "digest"}, "admin", password, method, uri, nc)


def test_the_digest_is_rfc_2617_s_example() -> None:
    """`digest_response`, which the server checks with and the clients answer with, gives
    RFC 2617 section 3.5's response (the one figure neither side can confirm by itself)."""
    response = digest_response("MD5", "Mufasa", "testrealm@host.com", "Circle Of Life", "GET",
                               "/dir/index.html", "dcd98b7102dd2f0e8b11d0f600bfb0c093",
                               "00000001", "0a4f113b")  # fmt: skip
    assert response == "6629fae49393a05397450978507c4ef1"


def _digest_only(guarded) -> None:  # noqa: ANN001
    if guarded.extra["scheme"] != "digest":
        pytest.skip("digest only")


HOSTILE = [
    'Digest username="admin", realm="camsim", nonce="{nonce}", uri="{url}", response="é"',
    'Digest username="admin", realm="camsim", nonce="é{nonce}", uri="{url}", response="00"',
    'Digest username="admin", realm="camsim", nonce="' + "1" * 7000 + '{nonce}", uri="{url}", '
    'response="00"',
    'Digest username="admin", realm="camsim", nonce="' + "f" * 7000 + '", uri="{url}", '
    'response="00"',
    'Digest username="ädmin", realm="camsim", nonce="{nonce}", uri="{url}", response="00"',
    'Digest username="admin", realm="camsim", nonce="{nonce}", uri="{url}", qop=auth, '
    'nc=٠٠٠٠٠٠٠١, cnonce="é", response="00"',
    'Digest username="admin", realm="camsim", nonce="{nonce}", uri="{url}", response="'
    + "a" * 6000
    + '"',
    "Basic " + b64encode("admin:pässwörd".encode()).decode(),
    "Basic " + b64encode("ädmin:s3cret".encode()).decode(),
    "Basic " + b64encode(b"\xff\xfe:\x00\x80").decode(),
    "Basic é",
    "Basic " + "QUFB" * 1500,
]


@pytest.mark.parametrize("header", HOSTILE)
def test_hostile_credentials_get_401(guarded, header: str) -> None:  # noqa: ANN001
    c = RtspClient(guarded.port)
    url = guarded.url("h264cam-001", "sub")
    first = c.request("DESCRIBE", url)
    nonce = parse_challenge(first.headers["www-authenticate"]).get("nonce", "")
    answer = c.request("DESCRIBE", url, {"Authorization": header.format(nonce=nonce, url=url)})
    assert answer.status == 401
    assert c.request("OPTIONS", url).status == 200, "the connection is still served"
    c.close()


def test_a_digest_is_good_only_for_the_url_it_names(guarded) -> None:  # noqa: ANN001
    _digest_only(guarded)
    c = RtspClient(guarded.port)
    one, other = guarded.url("h264cam-001", "sub"), guarded.url("h264cam-002")
    p = _challenge(c, one)
    assert (
        c.request("DESCRIBE", other, {"Authorization": _digest(p, "DESCRIBE", one)}).status == 401
    )
    assert (
        c.request("DESCRIBE", one, {"Authorization": _digest(p, "DESCRIBE", one, 2)}).status == 200
    )
    c.close()


def test_a_replayed_or_older_nonce_count_is_refused(guarded) -> None:  # noqa: ANN001
    _digest_only(guarded)
    c, thief = RtspClient(guarded.port), RtspClient(guarded.port)
    url = guarded.url("h264cam-002")
    p = _challenge(c, url)
    first = _digest(p, "DESCRIBE", url, 1)
    assert c.request("DESCRIBE", url, {"Authorization": first}).status == 200
    assert c.request("DESCRIBE", url, {"Authorization": first}).status == 401
    assert thief.request("DESCRIBE", url, {"Authorization": first}).status == 401
    assert (
        c.request("DESCRIBE", url, {"Authorization": _digest(p, "DESCRIBE", url, 3)}).status == 200
    )
    assert (
        c.request("DESCRIBE", url, {"Authorization": _digest(p, "DESCRIBE", url, 2)}).status == 401
    )
    assert (
        c.request("DESCRIBE", url, {"Authorization": _digest(p, "DESCRIBE", url, 4)}).status == 200
    )
    c.close()
    thief.close()


def test_an_expired_nonce_is_answered_stale(guarded) -> None:  # noqa: ANN001
    _digest_only(guarded)
    auth = guarded.server.rtsp.auth
    c = RtspClient(guarded.port)
    url = guarded.url("h264cam-003")
    p = _challenge(c, url)
    ttl = auth.nonce_ttl_s
    guarded.thread.call(setattr, auth, "nonce_ttl_s", 1.0)
    try:
        time.sleep(2.2)
        right = c.request("DESCRIBE", url, {"Authorization": _digest(p, "DESCRIBE", url)})
        wrong = c.request("DESCRIBE", url, {"Authorization": _digest(p, "DESCRIBE", url, 2, "x")})
    finally:
        guarded.thread.call(setattr, auth, "nonce_ttl_s", ttl)
    assert right.status == 401 and "stale=true" in right.headers["www-authenticate"]
    assert wrong.status == 401 and "stale" not in wrong.headers["www-authenticate"]
    fresh = parse_challenge(right.headers["www-authenticate"])
    assert fresh["nonce"] != p["nonce"]
    assert (
        c.request("DESCRIBE", url, {"Authorization": _digest(fresh, "DESCRIBE", url)}).status == 200
    )
    c.close()


def test_unauthenticated_clients_cannot_tell_offline_cameras_from_unknown_ones(guarded) -> None:  # noqa: ANN001
    server = guarded.server
    guarded.thread.call(server.inject, Event(0, "camera_down", camera="h264cam-003"))
    try:
        c = RtspClient(guarded.port)
        answers = {}
        for cam in ("h264cam-001", "h264cam-003", "nope-001"):
            url = guarded.url(cam, "sub")
            for method in ("DESCRIBE", "SETUP", "PLAY", "GET_PARAMETER", "TEARDOWN"):
                headers = {"Transport": "RTP/AVP/TCP;interleaved=0-1", "Session": "1"}
                a = c.request(method, url if method != "SETUP" else f"{url}/trackID=0", headers)
                answers[cam, method] = a.status, sorted(a.headers)
            answers[cam, "OPTIONS"] = c.request("OPTIONS", url).status, []
        for (cam, method), got in answers.items():
            want = answers["nope-001", method]
            assert got == want, f"{method} on {cam}: {got} against {want} for an unknown camera"
        assert answers["nope-001", "DESCRIBE"][0] == 401
        assert answers["nope-001", "OPTIONS"][0] == 200
        c.close()
    finally:
        guarded.thread.call(server.inject, Event(0, "camera_up", camera="h264cam-003"))


def test_the_nonce_table_is_bounded_and_what_fell_out_of_it_is_stale() -> None:
    auth = Authenticator("admin", "s3cret", max_nonces=2)
    url = "rtsp://127.0.0.1/h264cam-001/main"

    def new() -> dict[str, str]:
        return parse_challenge(auth.challenges()[0])

    first, unused, *used = new(), new(), new(), new()
    for p in [first, *used]:
        assert auth.check("DESCRIBE", url, _digest(p, "DESCRIBE", url)) is AuthCheck.OK
    assert len(auth._counts) == 2, "the table keeps the last two nonces used"
    assert auth.check("DESCRIBE", url, _digest(first, "DESCRIBE", url)) is AuthCheck.STALE
    assert auth.check("DESCRIBE", url, _digest(first, "DESCRIBE", url, 2)) is AuthCheck.STALE
    # issued after the one that fell out and never used: good, and it pushes used[0] out
    assert auth.check("DESCRIBE", url, _digest(unused, "DESCRIBE", url)) is AuthCheck.OK
    assert auth.check("DESCRIBE", url, _digest(used[0], "DESCRIBE", url, 2)) is AuthCheck.STALE
    assert auth.check("DESCRIBE", url, _digest(used[1], "DESCRIBE", url, 2)) is AuthCheck.OK
    assert auth.check("DESCRIBE", url, _digest(new(), "DESCRIBE", url)) is AuthCheck.OK


def _rfc2069(p: dict[str, str], method: str, uri: str) -> str:
    """A digest without qop, as GStreamer and live555 answer: no count to track."""
    uncounted = {k: v for k, v in p.items() if k != "qop"}
    return answer_challenge({**uncounted, "scheme": "digest"}, "admin", "s3cret", method, uri, 1)


def test_a_digest_without_count_is_good_only_on_its_connection(guarded) -> None:  # noqa: ANN001
    _digest_only(guarded)
    c, thief = RtspClient(guarded.port), RtspClient(guarded.port)
    url = guarded.url("h264cam-001")
    header = {"Authorization": _rfc2069(_challenge(c, url), "DESCRIBE", url)}
    assert c.request("DESCRIBE", url, header).status == 200
    assert c.request("DESCRIBE", url, header).status == 200, "reused on its connection"
    stolen = thief.request("DESCRIBE", url, header)
    assert stolen.status == 401 and "stale=true" in stolen.headers["www-authenticate"]
    c.close()
    thief.close()
