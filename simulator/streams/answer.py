"""RTSP 1.0 responses (RFC 2326) as a client reads them: `parse_answer` takes a status line
and headers, lenient with headers (it takes what cameras send), into an `Answer`."""

from __future__ import annotations

from dataclasses import dataclass

from simulator.streams.protocol import DIGITS


@dataclass
class Answer:
    """One RTSP response; header names are lower-case."""

    status: int
    headers: dict[str, str]
    body: bytes = b""

    @property
    def cseq(self) -> int | None:
        value = self.headers.get("cseq", "")
        return int(value) if DIGITS.fullmatch(value) else None

    @property
    def session(self) -> str:
        """The Session header's id, without its timeout."""
        return self.headers.get("session", "").split(";")[0]

    @property
    def session_timeout(self) -> int | None:
        """The Session header's timeout (seconds), if it names one."""
        value = self.headers.get("session", "").partition("timeout=")[2]
        return int(value) if DIGITS.fullmatch(value) else None

    @property
    def rtp_info(self) -> tuple[int, int]:
        """(seq, rtptime) of a one-stream RTP-Info header."""
        fields = dict(f.partition("=")[::2] for f in self.headers["rtp-info"].split(";"))
        return int(fields["seq"]), int(fields["rtptime"])

    @property
    def content_length(self) -> int:
        """The body's length; ValueError if it is not a number."""
        value = self.headers.get("content-length", "0").strip()
        if not DIGITS.fullmatch(value):
            raise ValueError(f"malformed Content-Length {value[:20]!r}")
        return int(value)


def parse_answer(head: bytes) -> Answer:
    """A response's status line and headers (without the blank line); its status is 0 when
    the head is not a response's (a request from the server)."""
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    response = len(parts) >= 2 and parts[0].startswith("RTSP/") and DIGITS.fullmatch(parts[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Answer(int(parts[1]) if response else 0, headers)
