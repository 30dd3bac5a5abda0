"""Bad input and abuse: 400-class answers and closed connections, 404, 453, 454, 461, idle
timeouts, vanishing clients, slow clients, authentication."""

from __future__ import annotations

import socket
import struct
import subprocess
import time
from base64 import b64encode

import pytest
from conftest import until

from simulator.streams.answer import Answer
from simulator.streams.auth import answer_challenge, parse_challenge
from simulator.streams.client import RtspClient, frames_in
from simulator.streams.rtp import keyframe_at


def _status_then_closed(port: int, payload: bytes) -> int:
    c = RtspClient(port)
    c.send_raw(payload)
    answer = c.answer()
    assert c.closed_by_server(), "the connection must be closed after a 400-class answer"
    c.close()
    return answer.status


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(40), 400),  # a TLS hello
        (b"GARBAGE\r\n\r\n", 400),
        (b"OPTIONS rtsp://x/ RTSP/1.0\r\nCSeq: x\r\n\r\n", 400),
        (b"OPTIONS rtsp://x/ RTSP/1.0\r\nno colon here\r\nCSeq: 1\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        (b"OPTIONS rtsp://x/ RTSP/2.0\r\nCSeq: 1\r\n\r\n", 505),
        (b"OPTIONS rtsp://x/ RTSP/1.0\r\nCSeq: 1\r\nX: " + b"a" * 9000 + b"\r\n\r\n", 400),
        (b"OPTIONS rtsp://x/" + b"a" * 3000 + b" RTSP/1.0\r\nCSeq: 1\r\n\r\n", 414),
        (b"SET_PARAMETER rtsp://x/ RTSP/1.0\r\nCSeq: 1\r\nContent-Length: 100000\r\n\r\n", 413),
        (b"DESCRIBE rtsp://x/ RTSP/1.0\r\nCSeq: 1\r\nContent-Length: -5\r\n\r\n", 400),
    ],
)
def test_malformed_requests_get_400_class_and_close(served, payload: bytes, status: int) -> None:  # noqa: ANN001
    assert _status_then_closed(served.port, payload) == status


def test_abuse_does_not_disturb_other_clients(served) -> None:  # noqa: ANN001
    watcher = RtspClient(served.port)
    watcher.start(served.url("h265cam-001"))
    for _ in range(20):
        _status_then_closed(served.port, b"\x00\xff" * 10 + b"\r\n\r\n")
    flood = RtspClient(served.port)
    flood.send_raw(b"X" * 20000)  # no request line end: too large
    assert flood.closed_by_server()
    assert frames_in(watcher.packets(1.5)) >= 5
    watcher.close()
    flood.close()


def test_unknown_paths_get_404(served) -> None:  # noqa: ANN001
    c = RtspClient(served.port)
    assert c.request("DESCRIBE", f"rtsp://127.0.0.1:{served.port}/nope/main").status == 404
    assert c.request("DESCRIBE", f"rtsp://127.0.0.1:{served.port}/h264cam-001/third").status == 404
    setup = c.request(
        "SETUP", f"rtsp://127.0.0.1:{served.port}/x/y/z/trackID=0", {"Transport": "RTP/AVP/TCP"}
    )
    assert setup.status == 404
    assert c.request("PLAY", served.url("h264cam-001"), {"Session": "deadbeef"}).status == 454
    assert c.request("RECORD", served.url("h264cam-001")).status == 405
    assert c.request("FROB", served.url("h264cam-001")).status == 501
    multicast = c.request(
        "SETUP", served.url("h264cam-001") + "/trackID=0", {"Transport": "RTP/AVP;multicast"}
    )
    assert multicast.status == 461
    c.close()


def test_too_many_clients_get_453(strict) -> None:  # noqa: ANN001
    url = strict.url("h264cam-001", "sub")
    clients = [RtspClient(strict.port) for _ in range(3)]
    clients[0].start(url)
    clients[1].start(url)
    answer = clients[2].request(
        "SETUP", f"{url}/trackID=0", {"Transport": "RTP/AVP/TCP;interleaved=0-1"}
    )
    assert answer.status == 453
    for c in clients:
        c.close()


def _udp_setup(c: RtspClient, url: str, port: int) -> Answer:
    """SETUP of `url`'s track with RTP to `port` and RTCP to the next, over UDP."""
    transport = f"RTP/AVP;unicast;client_port={port}-{port + 1}"
    return c.request("SETUP", f"{url}/trackID=0", {"Transport": transport})


def test_idle_sessions_time_out(strict) -> None:  # noqa: ANN001
    c = RtspClient(strict.port)
    answer = _udp_setup(c, strict.url("h264cam-002", "sub"), 40000)
    assert answer.status == 200
    assert answer.session_timeout == 2
    sid = answer.session

    def gone() -> bool:
        return strict.thread.call(lambda: sid not in strict.server.rtsp.sessions)

    assert until(gone), "a session without keep-alives ends after its timeout"
    assert c.closed_by_server(), "an idle connection is closed too"
    c.close()


def test_keepalives_keep_a_session(strict) -> None:  # noqa: ANN001
    c = RtspClient(strict.port)
    url = strict.url("h264cam-003", "sub")
    session = _udp_setup(c, url, 40002).session
    for _ in range(6):
        time.sleep(0.5)
        assert c.request("GET_PARAMETER", url, {"Session": session}).status == 200
    assert c.request("TEARDOWN", url, {"Session": session}).status == 200
    assert c.request("GET_PARAMETER", url, {"Session": session}).status == 454
    c.close()


def test_vanishing_clients_free_everything(served) -> None:  # noqa: ANN001
    stream = served.server.streams["mjpegcam-001/main"]
    before = served.sessions()
    clients = [RtspClient(served.port) for _ in range(4)]
    for c in clients:
        c.start(served.url("mjpegcam-001"))
    assert served.sessions() == before + 4
    for c in clients:
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        c.close()  # reset, no TEARDOWN
    assert until(lambda: served.sessions() == before)
    assert until(lambda: served.thread.call(lambda: not stream.clients and not stream.running))


def test_a_slow_client_does_not_delay_others(tight) -> None:  # noqa: ANN001
    url = tight.url("h265cam-001")
    slow = RtspClient(tight.port, rcvbuf=4096)
    slow.start(url)  # then never reads
    fast = RtspClient(tight.port)
    fast.start(url)
    fast.packets(1.5)  # joins at a keyframe
    got = frames_in(fast.packets(4.0))
    stream = tight.server.streams["h265cam-001/main"]
    drops = tight.thread.call(lambda: stream.counters.client_drops)
    slow.close()
    fast.close()
    assert drops > 0, "the slow client misses frames"
    assert got >= 30, f"the fast client got {got} of about 40 frames in 4 s"


def test_a_client_that_reads_in_bursts_gets_whole_packets(tight) -> None:  # noqa: ANN001
    """Frames go straight to the socket until it is full; the rest of a frame then waits in
    the connection's queue. Nothing may be lost, repeated or reordered in between: sequence
    numbers step by one, except forward to a keyframe where the client was too slow."""
    c = RtspClient(tight.port, rcvbuf=4096)
    c.start(tight.url("h264cam-002"))
    stream = tight.server.streams["h264cam-002/main"]
    packets, queued = [], []
    for _ in range(4):
        time.sleep(1.0)  # the socket fills, writes go partial, the connection queues the rest
        queued.append(
            tight.thread.call(lambda: max(x.tcp.get_write_buffer_size() for x in stream.clients))
        )
        packets += c.packets(0.5)
    c.close()
    assert max(queued) > 0, "frames waited in the connection's queue"
    rtp = [p for ch, p in packets if ch == 0]
    assert len(rtp) > 20 and all(p[0] == 0x80 and p[1] & 0x7F == 96 for p in rtp)
    assert len({p[8:12] for p in rtp}) == 1, "one SSRC"
    assert keyframe_at("h264", rtp[0][12:], opens=True)
    seqs = [struct.unpack_from(">H", p, 2)[0] for p in rtp]
    for i in range(1, len(rtp)):
        step = (seqs[i] - seqs[i - 1]) & 0xFFFF
        if step != 1:
            assert step < 0x8000, f"packet {i} goes back ({seqs[i - 1]} → {seqs[i]})"
            assert keyframe_at("h264", rtp[i][12:], opens=True), (
                f"packet {i} skips to a non-keyframe"
            )
    assert c.buf[:1] in (b"", b"$"), "the interleaved framing holds"
    stamps = [struct.unpack_from(">I", p, 4)[0] for p in rtp]
    assert all((b - a) & 0xFFFFFFFF < 1 << 31 for a, b in zip(stamps, stamps[1:], strict=False))


def test_authentication(guarded) -> None:  # noqa: ANN001
    scheme = guarded.extra["scheme"]
    good = guarded.url("h264cam-001", "sub", auth="admin:s3cret@")
    bad = guarded.url("h264cam-001", "sub", auth="admin:wrong@")
    ok = subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", good], capture_output=True, timeout=30
    )
    assert ok.returncode == 0, ok.stderr
    no = subprocess.run(["ffprobe", "-v", "error", bad], capture_output=True, timeout=30)
    assert no.returncode != 0 and b"401" in no.stderr

    c = RtspClient(guarded.port)
    url = guarded.url("h264cam-001", "sub")
    assert c.request("OPTIONS", url).status == 200
    answer = c.request("DESCRIBE", url)
    assert answer.status == 401
    challenge = answer.headers["www-authenticate"]
    assert challenge.lower().startswith(scheme)
    if scheme == "basic":
        right = "Basic " + b64encode(b"admin:s3cret").decode()
        wrong = "Basic " + b64encode(b"admin:s3cre").decode()
    else:
        p = parse_challenge(challenge)
        right = answer_challenge(p, "admin", "s3cret", "DESCRIBE", url, 1)
        wrong = answer_challenge(p, "admin", "s3cre", "DESCRIBE", url, 1)
    assert c.request("DESCRIBE", url, {"Authorization": wrong}).status == 401
    assert c.request("DESCRIBE", url, {"Authorization": right}).status == 200
    c.close()


# -- issue 16: hostile input that used to end in a traceback and no answer ----------------------


@pytest.mark.parametrize(
    "head",
    [
        "OPTIONS rtsp://x/ RTSP/1.0\r\nCSeq: 1\r\nContent-Length: ²\r\n\r\n",
        "SET_PARAMETER rtsp://x/ RTSP/1.0\r\nCSeq: 1\r\nContent-Length: ١٢\r\n\r\n" + "x" * 12,
        "OPTIONS rtsp://x/ RTSP/1.0\r\nCSeq: ١\r\n\r\n",
        "SETUP {url}/trackID=0 RTSP/1.0\r\nCSeq: 1\r\n"
        "Transport: RTP/AVP;unicast;client_port=٤٠٠٠٠-٤٠٠٠١\r\n\r\n",
        "SETUP {url}/trackID=0 RTSP/1.0\r\nCSeq: 1\r\n"
        "Transport: RTP/AVP;unicast;client_port=4²\r\n\r\n",
        "SETUP {url}/trackID=0 RTSP/1.0\r\nCSeq: 1\r\n"
        "Transport: RTP/AVP/TCP;interleaved=٠-١\r\n\r\n",
    ],
)
def test_only_ascii_digits_are_numbers(served, head: str) -> None:  # noqa: ANN001
    payload = head.format(url=served.url("h264cam-001")).encode()
    assert _status_then_closed(served.port, payload) == 400


@pytest.mark.parametrize(
    "url",
    [
        "rtsp://[::1",
        "rtsp://[::1/h264cam-001/main",
        "rtsp://[nope]:x/h264cam-001/main",
        "rtsp://::1]/",
        "rtsp://x:y/",
    ],
)
@pytest.mark.parametrize("method", ["OPTIONS", "DESCRIBE", "SETUP", "PLAY"])
def test_urls_that_do_not_parse_get_400(served, method: str, url: str) -> None:  # noqa: ANN001
    payload = f"{method} {url} RTSP/1.0\r\nCSeq: 1\r\nTransport: RTP/AVP/TCP\r\n\r\n".encode()
    assert _status_then_closed(served.port, payload) == 400


@pytest.mark.parametrize("inject", ["\n", "\r", "\t", " \n", "\x00", "\x7f", "é"])
def test_control_characters_in_a_url_get_400_and_are_never_echoed(served, inject: str) -> None:  # noqa: ANN001
    # urlsplit drops tabs and line ends and keeps the rest in the query: the path still names
    # a stream, so the URL would reach Content-Base
    url = served.url("h264cam-001") + f"?a{inject}X-Injected:1"
    c = RtspClient(served.port)
    c.send_raw(f"DESCRIBE {url} RTSP/1.0\r\nCSeq: 1\r\n\r\n".encode())
    answer = c.answer()
    assert answer.status == 400
    assert not any("X-Injected" in v for v in answer.headers.values())
    assert c.closed_by_server()
    c.close()


def _raw_answer(port: int, payload: bytes) -> tuple[bytes, bytes]:
    """Send `payload` on a raw socket; the first answer's head, and what the server sends after
    it until it closes or is silent for a second. No answer within a second fails."""
    with socket.create_connection(("127.0.0.1", port), timeout=1.0) as s:
        s.sendall(payload)
        got = b""
        while b"\r\n\r\n" not in got:
            chunk = s.recv(65536)  # TimeoutError: no answer within a second
            assert chunk, f"closed without an answer: {got!r}"
            got += chunk
        head, _, rest = got.partition(b"\r\n\r\n")
        try:
            while chunk := s.recv(65536):
                rest += chunk
        except TimeoutError:
            pass
        return head, rest


@pytest.mark.parametrize(("eol", "blank"), [("\n", "\n"), ("\r\n", "\n"), ("\n", "\r\n")])
def test_a_request_whose_lines_end_in_a_bare_lf_is_answered_at_once(
    served,  # noqa: ANN001
    eol: str,
    blank: str,
) -> None:
    url = served.url("h264cam-001")
    first = f"DESCRIBE {url} RTSP/1.0\nCSeq: 7{eol}Accept: application/sdp{eol}{blank}"
    then = f"OPTIONS {url} RTSP/1.0\nCSeq: 8\n\n"  # the connection still serves
    head, rest = _raw_answer(served.port, (first + then).encode())
    assert head.startswith(b"RTSP/1.0 200 ") and b"\r\nCSeq: 7\r\n" in head
    assert b"m=video" in rest and b"RTSP/1.0 200 OK\r\nCSeq: 8\r\n" in rest


@pytest.mark.parametrize(
    "payload",
    [
        b"OPTIONS rtsp://x/ RTSP/1.0\rCSeq: 1\r\r",  # old Mac line ends: taken for none
        b"OPTIONS rtsp://x/ RTSP/1.0\r\nCSeq: 1\rX-Injected: 1\r\n",
        b"DESCRIBE rtsp://x/a\nX-Injected: 1 RTSP/1.0\nCSeq: 1\n\n",
    ],
)
def test_a_bare_cr_or_a_lf_inside_a_line_gets_400_at_once(served, payload: bytes) -> None:  # noqa: ANN001
    head, rest = _raw_answer(served.port, payload)
    assert head.startswith(b"RTSP/1.0 400 ") and b"X-Injected" not in head
    assert rest == b"", "then closed"
