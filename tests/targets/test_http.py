"""The adapters' HTTP client against a small real HTTP server: keep-alive, streams cut short,
failures reported as Locust would see them."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from simulator.targets.http import FastClient, RequestError, StatusError


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    connections: set[int] = set()
    paths: list[str] = []

    def setup(self) -> None:
        super().setup()
        Handler.connections.add(id(self.connection))

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        Handler.paths.append(self.path)
        if self.path.startswith("/stream"):  # a long download, 5 kB every 0.3 s
            self.send_response(200)
            self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=F")
            self.send_header("Content-Length", "100000000")  # a length: could be kept alive
            self.end_headers()
            try:
                for _ in range(100):
                    self.wfile.write(b"--F\r\nContent-Length: 5000\r\n\r\n" + b"s" * 5000)
                    self.wfile.flush()
                    time.sleep(0.3)  # nothing pending when the client lets go of it
            except OSError:
                return
        status = 500 if self.path == "/broken" else 200
        body = self.path.encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    Handler.connections, Handler.paths = set(), []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    httpd.server_close()


def test_requests_share_one_kept_alive_connection(server: str) -> None:
    client = FastClient(timeout_s=5)
    for i in range(5):
        assert client.request("GET", f"{server}/a", name="x", params={"i": i}).text == f"/a?i={i}"
    assert len(Handler.connections) == 1
    client.close()


def test_a_stream_cut_short_does_not_poison_the_next_request(server: str) -> None:
    client = FastClient(timeout_s=5, pool_size=1)
    resp = client.request("GET", f"{server}/stream", name="live_view", stream=True)
    assert resp.read1(65536).startswith(b"--F")  # some of it, as soon as it came
    resp.close()  # the stream goes on on the server: its connection must not be reused
    for _ in range(3):
        assert client.request("GET", f"{server}/after", name="x").text == "/after"
    assert len(Handler.connections) == 2
    client.close()


def test_every_request_is_an_event_and_failures_say_why(server: str) -> None:
    fired: list[dict] = []
    client = FastClient(timeout_s=5, fire=lambda **kw: fired.append(kw))
    assert client.request("GET", f"{server}/a b<c>", name="snapshot").text == "/a%20b%3Cc%3E"
    assert client.request("GET", f"{server}/broken", name="export").status_code == 500
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(RequestError, match="ConnectionRefusedError"):
        client.request("GET", f"http://127.0.0.1:{port}/", name="health")
    assert [(f["name"], f["request_type"], type(f["exception"])) for f in fired] == [
        ("snapshot", "GET", type(None)),
        ("export", "GET", StatusError),
        ("health", "GET", RequestError),
    ]
    assert fired[0]["response_length"] == len("/a%20b%3Cc%3E") and fired[0]["response_time"] > 0
    client.close()
