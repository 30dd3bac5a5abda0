"""RTSP 1.0 messages (RFC 2326): an incremental, bounded request parser and response text,
and the client's reading of responses.

The parser takes bytes as they arrive on a connection and returns whole requests and
interleaved binary packets (`$`, channel, length: RTCP receiver reports over TCP). Anything
malformed or oversized raises BadRequest with the status to answer before closing. A line
may end in a bare LF as well as CRLF (RFC 2326 §4 asks receivers to take LF alone); a bare
CR, which that section also allows, is a 400 at once, as it is in a header value: a CR
that ends nothing is the start of a smuggled line, never echoed into an answer. A SETUP's
Transport header is read into the one unicast transport we serve. How a client reads a
response is `answer`'s.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

MAX_HEAD = 8192  # request line and headers
MAX_URL = 2048
MAX_HEADERS = 64
MAX_BODY = 4096

REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Request Entity Too Large",
    414: "Request-URI Too Large",
    453: "Not Enough Bandwidth",
    454: "Session Not Found",
    455: "Method Not Valid in This State",
    459: "Aggregate Operation Not Allowed",
    461: "Unsupported Transport",
    500: "Internal Server Error",
    501: "Not Implemented",
    503: "Service Unavailable",
    505: "RTSP Version Not Supported",
}

_TOKEN = re.compile(rb"[A-Za-z_][A-Za-z0-9_\-]{0,31}")
_REQUEST_LINE = re.compile(rb"[A-Za-z_][A-Za-z0-9_\-]{0,31} [^ \r]+ [^ \r]+\r?")
_HEAD_END = re.compile(rb"\r?\n\r?\n")  # the blank line after the head, CRLF or LF
_LINE_END = re.compile(r"\r?\n")
_BARE_CR = re.compile(rb"\r(?!\n)[\s\S]")  # a CR followed by anything but LF
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_URL = re.compile(r"[\x21-\x7e]+")  # visible ASCII: no spaces, control or non-ASCII characters
DIGITS = re.compile(r"[0-9]{1,10}")  # str.isdigit() also takes '²' and '١'
_PAIR = re.compile(r"([0-9]{1,5})(?:-([0-9]{1,5}))?")


class BadRequest(Exception):
    """A request that cannot be served: answer `status`, then close the connection."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


@dataclass
class RtspRequest:
    """One RTSP request; header names are lower-case."""

    method: str
    url: str
    version: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    @property
    def cseq(self) -> str:
        return self.headers.get("cseq", "0")


@dataclass(frozen=True)
class Interleaved:
    """A binary packet the client sent on an interleaved channel."""

    channel: int
    data: bytes


class RequestParser:
    """Turns a connection's bytes into Requests and Interleaved packets."""

    def __init__(self, max_head: int = MAX_HEAD, max_body: int = MAX_BODY) -> None:
        self.buf = bytearray()
        self.max_head = max_head
        self.max_body = max_body

    def feed(self, data: bytes) -> list[RtspRequest | Interleaved]:
        """Add bytes; return every message now complete (raises BadRequest)."""
        self.buf += data
        out: list[RtspRequest | Interleaved] = []
        while self.buf:
            if self.buf[0] == 0x24:  # '$'
                end = interleaved_end(self.buf)
                if end < 0:
                    break
                out.append(Interleaved(self.buf[1], bytes(self.buf[4:end])))
                del self.buf[:end]
                continue
            if self.buf[0] in (0x0D, 0x0A):  # blank lines between requests
                del self.buf[:1]
                continue
            found = _HEAD_END.search(self.buf, 0, self.max_head + 4)
            if found is None:
                if len(self.buf) > self.max_head:
                    raise BadRequest(400, "request head too large")
                line, newline, _ = bytes(self.buf).partition(b"\n")
                if not line[:1].isalpha() or (newline and not _REQUEST_LINE.fullmatch(line)):
                    raise BadRequest(400, "malformed request line")
                if _BARE_CR.search(self.buf):  # no line ends there: the head would never end
                    raise BadRequest(400, "bare CR in the request head")
                break
            end, start = found.span()
            request = parse_head(bytes(self.buf[:end]))
            length = _content_length(request)
            if length > self.max_body:
                raise BadRequest(413, "request body too large")
            if len(self.buf) < start + length:
                break
            request.body = bytes(self.buf[start : start + length])
            del self.buf[: start + length]
            out.append(request)
        return out


def interleaved_end(buf: bytes | bytearray, i: int = 0) -> int:
    """Where the interleaved packet at buf[i] (`$`, channel, 2-byte length, data: RFC 2326
    §10.12) ends, or -1 if it has not all come."""
    if len(buf) < i + 4:
        return -1
    end = i + 4 + (buf[i + 2] << 8 | buf[i + 3])
    return end if end <= len(buf) else -1


def parse_head(head: bytes) -> RtspRequest:
    """Parse a request line and headers (without the blank line), lines ending in CRLF or LF."""
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest(400, "request is not UTF-8") from None
    lines = _LINE_END.split(text)
    parts = lines[0].split(" ")
    if len(parts) != 3 or not _TOKEN.fullmatch(parts[0].encode()) or not parts[1]:
        raise BadRequest(400, "malformed request line")
    method, url, version = parts
    if len(url) > MAX_URL:
        raise BadRequest(414, "request URL too long")
    _check_url(url)
    if not version.startswith("RTSP/"):
        raise BadRequest(400, "not an RTSP request")
    if version != "RTSP/1.0":
        raise BadRequest(505, f"unsupported version {version}")
    if len(lines) - 1 > MAX_HEADERS:
        raise BadRequest(400, "too many headers")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if (
            not sep
            or not _HEADER_NAME.fullmatch(name)
            or any(ord(ch) < 32 and ch != "\t" for ch in value)
        ):
            raise BadRequest(400, "malformed header line")
        headers[name.lower()] = value.strip()
    cseq = headers.get("cseq")
    if cseq is None or not DIGITS.fullmatch(cseq):
        raise BadRequest(400, "missing or malformed CSeq")
    return RtspRequest(method, url, version, headers)


def _content_length(request: RtspRequest) -> int:
    raw = request.headers.get("content-length", "0")
    if not DIGITS.fullmatch(raw) or len(raw) > 9:
        raise BadRequest(400, "malformed Content-Length")
    return int(raw)


def _check_url(url: str) -> None:
    """Refuse a request URL with characters a URL cannot hold or that urlsplit rejects."""
    if not _URL.fullmatch(url):
        raise BadRequest(400, "malformed request URL")
    try:
        urlsplit(url).port  # noqa: B018  # raises on a bad IPv6 host or port
    except ValueError:
        raise BadRequest(400, "malformed request URL") from None


def response(
    status: int, cseq: str | None, headers: list[tuple[str, str]] = (), body: bytes = b""
) -> bytes:  # type: ignore[assignment]
    """The bytes of an RTSP response."""
    lines = [f"RTSP/1.0 {status} {REASONS.get(status, 'Error')}"]
    if cseq is not None:
        lines.append(f"CSeq: {cseq}")
    lines.append("Server: camsim")
    # values may quote the request (its URL): never let one end the line it is on
    lines += [f"{k}: {v if v.isprintable() else _printable(v)}" for k, v in headers]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def _printable(text: str) -> str:
    return "".join(ch for ch in text if ch.isprintable())


@dataclass(frozen=True)
class Transport:
    """A client's chosen transport from its SETUP request."""

    tcp: bool
    channels: tuple[int, int] = (0, 1)
    ports: tuple[int, int] = (0, 0)


def parse_transport(value: str) -> Transport | None:
    """The first unicast RTP/AVP transport we support in a Transport header, or None.

    A port or channel of a transport we serve that is not a number or a pair of numbers is a
    BadRequest (400)."""
    for spec in value.split(","):
        fields = [f.strip() for f in spec.split(";") if f.strip()]
        if not fields:
            continue
        proto = fields[0].upper()
        params = {k.lower(): v for k, _, v in (f.partition("=") for f in fields[1:])}
        if (
            "multicast" in params
            or "mode" in params
            and params["mode"].strip('"').upper() not in ("PLAY",)
        ):
            continue
        if proto == "RTP/AVP/TCP":
            pair = _pair(params["interleaved"]) if "interleaved" in params else (0, 1)
            if pair and max(pair) <= 255:
                return Transport(True, channels=pair)
        elif proto in ("RTP/AVP", "RTP/AVP/UDP"):
            pair = _pair(params.get("client_port", ""))
            if pair and min(pair) > 0 and max(pair) < 65536:
                return Transport(False, ports=pair)
    return None


def _pair(text: str) -> tuple[int, int] | None:
    if not text:
        return None
    m = _PAIR.fullmatch(text)
    if m is None:
        raise BadRequest(400, "malformed Transport port or channel")
    a = int(m.group(1))
    return a, int(m.group(2)) if m.group(2) else a + 1
