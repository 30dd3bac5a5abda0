"""The RTSP client's reading of what a server sends, without a server: responses split
across reads, packets and server requests amid them, credentials in the URL."""

from __future__ import annotations

import pytest

from simulator.streams.answer import parse_answer
from simulator.streams.client import RtspError, StreamAddress, frames_in, message_at
from simulator.streams.protocol import interleaved_end

ANSWER = (
    b"RTSP/1.0 200 OK\r\nCSeq: 7\r\nSession: 1a2b;timeout=60\r\n"
    b"RTP-Info: url=rtsp://h/x/trackID=0;seq=41;rtptime=9000\r\nContent-Length: 3\r\n\r\nv=0"
)


def test_an_answer_is_read_whole_only() -> None:
    buf = bytearray(b"$\x00\x00\x02ab" + ANSWER + b"$\x01")
    assert interleaved_end(buf) == 6
    for cut in range(6, len(ANSWER) + 6):
        assert message_at(bytearray(buf[:cut]), 6) == (-1, None)
    end, answer = message_at(buf, 6)
    assert end == 6 + len(ANSWER) and interleaved_end(buf, end) == -1
    assert answer is not None and answer.status == 200 and answer.body == b"v=0"
    assert (answer.cseq, answer.session, answer.session_timeout) == (7, "1a2b", 60)
    assert answer.rtp_info == (41, 9000)


def test_a_request_from_the_server_is_told_apart() -> None:
    head = b"OPTIONS rtsp://h/ RTSP/1.0\r\nCSeq: 3"
    assert parse_answer(head).status == 0 and parse_answer(head).cseq == 3
    assert parse_answer(b"RTSP/1.0 \xb2\xb2 OK").status == 0


def test_oversized_or_malformed_answers_are_errors() -> None:
    with pytest.raises(RtspError, match="too long"):
        message_at(bytearray(b"RTSP/1.0 200 OK\r\nX: " + b"a" * 70000))
    with pytest.raises(RtspError, match="Content-Length"):
        message_at(bytearray(b"RTSP/1.0 200 OK\r\nContent-Length: 1x\r\n\r\n"))


def test_credentials_come_out_of_the_url() -> None:
    w = StreamAddress.of("rtsp://op:s3cret%3Ax@cam.example:8554/a/main?x=1")
    assert (w.host, w.port, w.user, w.password) == ("cam.example", 8554, "op", "s3cret:x")
    assert w.url == "rtsp://cam.example:8554/a/main?x=1"
    assert StreamAddress.of("rtsp://10.0.0.1/a").port == 554
    with pytest.raises(RtspError, match="not an rtsp"):
        StreamAddress.of("http://h/a")


def test_frames_end_at_the_marker_bit() -> None:
    rtp = bytes([0x80, 0x60]) + bytes(10)
    last = bytes([0x80, 0xE0]) + bytes(10)
    assert frames_in([(0, rtp), (0, last), (1, last), (0, last[:8])]) == 1
