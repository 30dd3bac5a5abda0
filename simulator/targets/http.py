"""The adapters' HTTP client: geventhttpclient (what Locust's FastHttpUser speaks), kept pools
of keep-alive connections per host, and a `requests`-like answer.

It works inside a Locust process (gevent-patched, each request fired as a Locust request
event named after its action kind) and in plain Python (`camsim lab`, the pre-flight, the
tests: gevent sockets run on their own, no patching needed). Through the adapters it costs
about half the CPU per request of `requests` (Locust's HttpUser; benchmarks/bench_load.py).
"""

from __future__ import annotations

import base64
import json as jsonlib
import re
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote, urlencode, urljoin, urlsplit

from geventhttpclient import HTTPClient
from geventhttpclient.response import HTTPParseError, HTTPSocketPoolResponse

_REDIRECTS = frozenset((301, 302, 303, 307, 308))
MAX_REDIRECTS = 5
_URI_SAFE = "!#$%&'()*+,/:;=?@[]~"  # what `requests` leaves unquoted in a URL
_UNSAFE = re.compile(r"[^A-Za-z0-9\-._!#$%&'()*+,/:;=?@\[\]~]")
#: What a failed request can raise from the socket or the parser.
TRANSPORT_ERRORS = (OSError, HTTPParseError)


class RequestError(Exception):
    """The request did not get an answer (refused, reset, timed out, not HTTP)."""


class StatusError(Exception):
    """An answer with an error status (what the request event reports as its failure)."""


class Response:
    """One answer: status, headers, body (read at once, or streamed with `read1`)."""

    def __init__(self, raw: HTTPSocketPoolResponse, url: str, stream: bool) -> None:
        self._raw = raw
        self.url = url
        self.status_code = raw.status_code
        self.headers = raw.info()  # case-insensitive
        self._content: bytes | None = None if stream else self._read_all()

    def _read_all(self) -> bytes:
        try:
            return self._raw.read()
        except TRANSPORT_ERRORS as exc:
            self.close()
            raise RequestError(f"{exc.__class__.__name__}: {exc}") from exc

    @property
    def content(self) -> bytes:
        if self._content is None:
            self._content = self._read_all()
        return self._content

    @property
    def text(self) -> str:
        try:
            return self.content.decode(_charset(self.headers.get("Content-Type", "")), "replace")
        except LookupError:  # a charset Python does not know
            return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        """The body as JSON (ValueError when it is not)."""
        return jsonlib.loads(self.content)

    def read1(self, n: int) -> bytes:
        """At most `n` body bytes, as soon as some have come (b"" at the end): what a reader
        of an endless stream needs (geventhttpclient's `read(n)` waits for all `n`)."""
        raw = self._raw
        buf = raw._body_buffer  # noqa: SLF001 - the parser's body buffer, no public view of it
        while not buf and not raw.message_complete and raw._sock is not None:  # noqa: SLF001
            data = raw._sock.recv(n)  # noqa: SLF001
            if not data:
                self.close()
                break
            raw.feed(data)
        out = bytes(buf[:n])
        del buf[:n]
        return out

    def close(self) -> None:
        """Done with the answer: its connection goes back to the pool if the answer was
        read to its end, else it is closed (geventhttpclient's rule: an unfinished stream
        cannot be reused)."""
        self._raw.release()


class FastClient:
    """HTTP/1.1 with keep-alive, `pool_size` connections per host at most, timeouts; every
    request reported to `fire` (Locust's `events.request.fire` signature) when given."""

    def __init__(
        self,
        timeout_s: float = 10.0,
        fire: Callable[..., None] | None = None,
        pool_size: int = 100,
        connect_timeout_s: float = 5.0,
    ) -> None:
        self.timeout_s = timeout_s
        self.connect_timeout_s = min(connect_timeout_s, timeout_s)
        self.fire = fire
        self.pool_size = pool_size
        self._hosts: dict[tuple[str, str, int], HTTPClient] = {}

    def _client(self, scheme: str, host: str, port: int) -> HTTPClient:
        key = (scheme, host, port)
        client = self._hosts.get(key)
        if client is None:
            client = HTTPClient(
                host, port, ssl=scheme == "https", concurrency=self.pool_size,
                network_timeout=self.timeout_s, connection_timeout=self.connect_timeout_s,
            )  # fmt: skip
            self._hosts[key] = client
        return client

    def request(
        self,
        method: str,
        url: str,
        *,
        name: str,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | str | bytes | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        stream: bool = False,
    ) -> Response:
        """One request (following redirects); RequestError when no answer came."""
        t0 = time.perf_counter()
        head = dict(headers or {})
        body: bytes | str | None = None
        if json is not None:
            body = jsonlib.dumps(json)
            head.setdefault("Content-Type", "application/json")
        elif isinstance(data, Mapping):
            body = urlencode(data, doseq=True)
            head.setdefault("Content-Type", "application/x-www-form-urlencoded")
        elif data is not None:
            body = data
        if auth is not None:
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            head["Authorization"] = f"Basic {token}"
        if params:
            url += ("&" if "?" in url else "?") + urlencode(params, doseq=True)
        resp: Response | None = None
        exc: Exception | None = None
        try:
            resp = self._send(method, url, body, head, stream)
            if resp.status_code >= 400:
                exc = StatusError(f"{resp.status_code} for {method} {resp.url}")
            return resp
        except RequestError as err:
            exc = err
            raise
        finally:
            if self.fire is not None:
                length = 0 if resp is None or resp._content is None else len(resp._content)
                self.fire(
                    request_type=method, name=name, response_time=(time.perf_counter() - t0) * 1000,
                    response_length=length, exception=exc, context={}, url=url,
                )  # fmt: skip

    def _send(
        self, method: str, url: str, body: bytes | str | None, head: dict[str, str], stream: bool
    ) -> Response:
        for _ in range(MAX_REDIRECTS + 1):
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise RequestError(f"not an http(s) URL: {url}")
            port = parts.port or (443 if parts.scheme == "https" else 80)
            uri = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            if _UNSAFE.search(uri):  # spaces, <, > … quoted as requests does
                uri = quote(uri, safe=_URI_SAFE)
            try:
                client = self._client(parts.scheme, parts.hostname, port)
                raw = client.request(method, uri, body=body, headers=head)
            except (*TRANSPORT_ERRORS, ValueError) as err:  # ValueError: a URI it refuses
                raise RequestError(f"{err.__class__.__name__}: {err}") from err
            status = raw.status_code
            if status not in _REDIRECTS or not raw.get("Location"):
                return Response(raw, url, stream)
            raw.read()  # the redirect's own body, so its connection can be reused
            url = urljoin(url, str(raw.get("Location")))
            if status == 303 or (status in (301, 302) and method != "HEAD"):
                method, body = "GET", None
                head.pop("Content-Type", None)
        raise RequestError(f"more than {MAX_REDIRECTS} redirects from {url}")

    def close(self) -> None:
        for client in self._hosts.values():
            client.close()
        self._hosts.clear()


def _charset(content_type: str) -> str:
    for param in content_type.split(";")[1:]:
        key, _, value = param.strip().partition("=")
        if key.lower() == "charset" and value:
            return value.strip('"')
    return "utf-8"
