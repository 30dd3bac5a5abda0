"""What a supervision centre does to its video-management system, as one small interface.

A `Target` is one system under test seen through its HTTP API: cameras added and removed, live
views and snapshots pulled, recordings played back and exported, alarms raised and
acknowledged, and what it says it recorded and noticed. Each adapter (ZoneMinder, motion, a
generic REST mapping) implements what its system can do and raises `NotSupported` for the rest.

Requests go through an `HttpClient`, in practice `http.FastClient` (geventhttpclient): inside a
load test it fires each request as a Locust request event named after its action kind (low
cardinality: never camera ids); elsewhere (the lab, the tests) it fires nothing.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, BinaryIO, Protocol

from simulator.targets.http import TRANSPORT_ERRORS, RequestError, Response

#: Most bytes one live view, playback or export reads, whatever its duration.
MAX_STREAM_BYTES = 64 * 1024 * 1024


class TargetError(Exception):
    """The target answered something the adapter cannot use (one line: action, what, why)."""


class NotSupported(TargetError):
    """The target cannot do this action (at all, or not through this adapter)."""


class HttpClient(Protocol):
    """Anything with `FastClient.request()`: method, URL, a low-cardinality `name`, and
    params/data/json/headers/auth/stream keywords, answering a `Response`."""

    def request(self, method: str, url: str, *, name: str, **kw: Any) -> Response: ...


@dataclass(frozen=True)
class TargetCamera:
    """A camera as the target knows it."""

    target_id: str
    name: str
    url: str
    enabled: bool
    status: str = ""  # the target's own word for it (e.g. ZoneMinder's "Connected")
    capture_fps: float | None = None


@dataclass(frozen=True)
class RecordedSpan:
    """One stretch of video the target says it recorded (an event, a movie file)."""

    recording_id: str
    target_id: str
    start: datetime
    end: datetime | None  # None while still recording
    frames: int
    cause: str = ""
    alarm_frames: int = 0
    duration_s: float | None = None  # the target's own (finer) figure, where it gives one

    @property
    def length_s(self) -> float | None:
        """Seconds recorded: the target's figure, else end minus start (None while open)."""
        if self.duration_s is not None and self.end is not None:
            return self.duration_s
        return None if self.end is None else (self.end - self.start).total_seconds()


@dataclass(frozen=True)
class StreamRead:
    """What pulling a stream (live view, playback, export) got: bytes, parts, timings."""

    bytes: int
    parts: int  # JPEG frames of an MJPEG stream, or 1 for a plain download
    first_byte_s: float | None  # from the request to the first body byte
    seconds: float  # from the request to the end of reading
    content_type: str = ""


class Target(ABC):
    """One system under test behind its HTTP API. Only `health` and `list_cameras` are
    required; every other action raises `NotSupported` unless the adapter provides it."""

    kind = "target"

    def __init__(
        self,
        client: HttpClient,
        base_url: str,
        user: str | None = None,
        password: str | None = None,
    ) -> None:
        self.client = client
        self.base_url = base_url.rstrip("/")
        self.user = user
        self.password = password

    # --- session ---------------------------------------------------------------------------
    def login(self) -> None:
        """Open a session (no-op for targets without authentication)."""
        return None

    def refresh(self) -> None:
        """Renew the session before it expires (default: log in again)."""
        self.login()

    # --- state -----------------------------------------------------------------------------
    @abstractmethod
    def health(self) -> dict[str, Any]:
        """The target's own view of its state (version, daemons, load...)."""

    @abstractmethod
    def list_cameras(self) -> list[TargetCamera]:
        """The cameras the target knows."""

    def log_lines(self, since: datetime) -> list[str]:
        """What the target logged since then (newest last), where it says what it noticed."""
        raise self._unsupported("log_lines")

    # --- cameras ---------------------------------------------------------------------------
    def add_camera(self, camera_id: str, rtsp_url: str, width: int, height: int, fps: float) -> str:
        """Add and start recording an RTSP camera; returns the target's id for it."""
        raise self._unsupported("add_camera")

    def remove_camera(self, target_id: str) -> None:
        raise self._unsupported("remove_camera")

    # --- operators' actions ----------------------------------------------------------------
    def live_view(self, target_id: str, seconds: float) -> StreamRead:
        """Watch the camera live for this long (bounded by `MAX_STREAM_BYTES`)."""
        raise self._unsupported("live_view")

    def snapshot(self, target_id: str) -> bytes:
        """One still image (JPEG) of the camera."""
        raise self._unsupported("snapshot")

    def ptz(self, target_id: str, pan: float, tilt: float, zoom: float) -> None:
        """Move the camera (relative, each in -1..1)."""
        raise self._unsupported("ptz")

    def playback(
        self, target_id: str, start: datetime, duration_s: float, speed: float = 1.0
    ) -> StreamRead:
        """Play back recorded video from `start` for `duration_s` of recording at `speed`."""
        raise self._unsupported("playback")

    def export(
        self, target_id: str, start: datetime, duration_s: float, out: BinaryIO | None = None
    ) -> StreamRead:
        """Download the recording covering [start, start + duration_s) (into `out` if given)."""
        raise self._unsupported("export")

    def events(self, target_id: str, since: datetime, until: datetime) -> list[RecordedSpan]:
        """What the target recorded of this camera overlapping [since, until]."""
        raise self._unsupported("events")

    def alarm(self, target_id: str, on: bool) -> None:
        """Raise (or cancel) an alarm on the camera, as an operator or an integration does."""
        raise self._unsupported("alarm")

    def acknowledge(self, target_id: str) -> None:
        """Acknowledge the camera's alarm."""
        raise self._unsupported("acknowledge")

    # --- helpers for adapters --------------------------------------------------------------
    def _unsupported(self, action: str, why: str = "") -> NotSupported:
        return NotSupported(
            f"{self.kind}: {action} is not supported" + (f" ({why})" if why else "")
        )

    def _call(
        self,
        name: str,
        method: str,
        path: str,
        expect: Iterable[int] = (200,),
        **kw: Any,
    ) -> Response:
        """One request named after its action kind; a status not in `expect` → TargetError."""
        url = path if "://" in path else f"{self.base_url}/{path.lstrip('/')}"
        try:
            resp = self.client.request(method, url, name=name, **kw)
        except RequestError as exc:
            raise TargetError(f"{self.kind}: {name}: {method} {url}: {exc}") from exc
        if resp.status_code not in tuple(expect):
            try:  # of a stream, what has come (a streamed error is short, or cut)
                raw = resp.read1(200) if kw.get("stream") else resp.content[:200]
            except TRANSPORT_ERRORS:
                raw = b""
            body = raw.decode("utf-8", "replace").replace("\n", " ")
            resp.close()
            raise TargetError(
                f"{self.kind}: {name}: {method} {url} answered {resp.status_code}: {body}"
            )
        return resp

    def _still(self, name: str, resp: Response, max_bytes: int = 16 * 1024 * 1024) -> bytes:
        """The image of a streamed answer: the first part of a multipart stream (an MJPEG
        server's endless answer), else the whole body; then closes it."""
        try:
            boundary = _boundary(resp.headers.get("Content-Type", ""))
            if not boundary:
                return resp.content
            data = b""
            while len(data) < max_bytes:
                start = data.find(boundary)
                head_end = data.find(b"\r\n\r\n", start) if start >= 0 else -1
                if head_end >= 0:
                    body = data[head_end + 4 :]
                    length = _content_length(data[start:head_end])
                    if length is not None and len(body) >= length:
                        return body[:length]
                    end = body.find(boundary)
                    if length is None and end >= 0:
                        return body[:end].rstrip(b"\r\n")
                chunk = resp.read1(65536)
                if not chunk:
                    raise TargetError(f"{self.kind}: {name}: {resp.url}: ended before a part")
                data += chunk
            raise TargetError(f"{self.kind}: {name}: {resp.url}: no part in {max_bytes} bytes")
        except (RequestError, *TRANSPORT_ERRORS) as exc:
            raise TargetError(f"{self.kind}: {name}: {resp.url}: {exc}") from exc
        finally:
            resp.close()

    def _read_stream(
        self,
        name: str,
        url: str,
        seconds: float,
        max_bytes: int = MAX_STREAM_BYTES,
        out: BinaryIO | None = None,
        **kw: Any,
    ) -> StreamRead:
        """GET a (possibly endless) stream and read it for `seconds` or `max_bytes` (copying
        it to `out` if given). It stops at the first read ending after `seconds`; a stalled
        stream is cut by the client's read timeout."""
        t0 = time.perf_counter()
        resp = self._call(name, "GET", url, stream=True, **kw)
        return self._read_response(name, resp, t0, seconds, max_bytes, out)

    def _read_response(
        self,
        name: str,
        resp: Response,
        t0: float,
        seconds: float,
        max_bytes: int = MAX_STREAM_BYTES,
        out: BinaryIO | None = None,
    ) -> StreamRead:
        """Read a streamed answer until `seconds` after `t0` or `max_bytes`, then close it."""
        ctype = resp.headers.get("Content-Type", "")
        boundary = _boundary(ctype)
        n = parts = 0
        first: float | None = None
        tail = b""
        try:
            while n < max_bytes and time.perf_counter() - t0 < seconds:
                chunk = resp.read1(min(65536, max_bytes - n))
                if not chunk:
                    break
                if first is None:
                    first = time.perf_counter() - t0
                n += len(chunk)
                if out is not None:
                    out.write(chunk)
                if boundary:  # count boundaries, also those split across two chunks
                    data = tail + chunk
                    parts += data.count(boundary)
                    tail = data[-(len(boundary) - 1) :]
        except (RequestError, *TRANSPORT_ERRORS) as exc:
            if first is None:
                raise TargetError(f"{self.kind}: {name}: {resp.url}: {exc}") from exc
        finally:
            resp.close()
        return StreamRead(
            n, parts if boundary else int(n > 0), first, time.perf_counter() - t0, ctype
        )


def _boundary(content_type: str) -> bytes:
    """The `--boundary` marker of a multipart content type, or b"" for any other type."""
    if not content_type.lower().startswith("multipart/"):
        return b""
    for param in content_type.split(";")[1:]:
        key, _, value = param.strip().partition("=")
        if key.lower() == "boundary" and value:
            return b"--" + value.strip('"').encode()
    return b""


def _content_length(head: bytes) -> int | None:
    """A part's Content-Length header, if it has one."""
    for line in head.split(b"\r\n"):
        key, _, value = line.partition(b":")
        if key.strip().lower() == b"content-length" and value.strip().isdigit():
            return int(value)
    return None
