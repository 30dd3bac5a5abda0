"""A stub VMS for the lab benchmarks: a small HTTP server answering benchmarks/data/stub-vms.yaml.

It keeps the cameras it is given (in memory), lists them, and answers every operator action
at once: live views and playbacks stream one small JPEG-sized part a second for the time
asked (at most MAX_STREAM_S), exports are one bounded body. It records nothing, so a lab
verdict against it shows every camera as a gap. Run alone (`python benchmarks/stub_vms.py`)
it prints its URL; `start()` runs it in its own process, so its CPU is not the harness's.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

MAPPING = Path(__file__).with_name("data") / "stub-vms.yaml"
MAX_STREAM_S = 120.0
PART = b"--frame\r\nContent-Type: image/jpeg\r\n\r\n" + b"\xff" * 2000 + b"\r\n"
EXPORT = b"\x00" * 256 * 1024


class Stub(BaseHTTPRequestHandler):
    """One request; the cameras live on the server (`self.server.cameras`)."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:  # quiet
        pass

    def _send(self, status: int, body: object = None, raw: bytes | None = None) -> None:
        data = raw if raw is not None else b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json" if raw is None else "video/mp4")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _stream(self, seconds: float) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
        self.send_header("Connection", "close")
        self.end_headers()
        end = time.monotonic() + min(seconds, MAX_STREAM_S)
        try:
            while True:
                self.wfile.write(PART)
                self.wfile.flush()
                if time.monotonic() + 1.0 > end:
                    break
                time.sleep(1.0)
        except OSError:  # the reader had seen enough
            pass
        self.close_connection = True

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        parts = url.path.strip("/").split("/")
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        cams = self.server.cameras  # type: ignore[attr-defined]
        if parts == ["health"]:
            return self._send(200, {"cameras": len(cams)})
        if parts == ["cameras"]:
            return self._send(200, {"cameras": list(cams.values())})
        if parts == ["logs"]:
            return self._send(200, {"logs": []})
        if len(parts) == 3 and parts[0] == "cameras" and parts[1] in cams:
            what = parts[2]
            if what == "events":
                return self._send(200, {"events": []})
            if what == "snapshot":
                return self._send(200, raw=PART)
            if what in ("live", "playback"):
                return self._stream(float(query.get("seconds", 1)))
            if what == "export":
                return self._send(200, raw=EXPORT)
        self._send(404, {"error": "no such thing"})

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        parts = urlsplit(self.path).path.strip("/").split("/")
        cams = self.server.cameras  # type: ignore[attr-defined]
        if parts == ["cameras"]:
            body = json.loads(raw)
            with self.server.lock:  # type: ignore[attr-defined]
                cid = str(next(self.server.ids))  # type: ignore[attr-defined]
                cams[cid] = {"id": cid, "name": body["name"], "url": body["url"], "enabled": 1}
            return self._send(201, {"id": cid})
        if len(parts) >= 3 and parts[0] == "cameras" and parts[1] in cams:
            return self._send(200, {})
        self._send(404, {"error": "no such camera"})

    def do_DELETE(self) -> None:
        parts = urlsplit(self.path).path.strip("/").split("/")
        cams = self.server.cameras  # type: ignore[attr-defined]
        if len(parts) == 2 and parts[0] == "cameras" and cams.pop(parts[1], None) is not None:
            return self._send(204)
        self._send(404, {"error": "no such camera"})


def serve(port: int = 0) -> ThreadingHTTPServer:
    """The stub listening on 127.0.0.1:port (0: a free one), not yet serving."""
    server = ThreadingHTTPServer(("127.0.0.1", port), Stub)
    server.daemon_threads = True
    server.cameras = {}  # type: ignore[attr-defined]
    server.ids = itertools.count(1)  # type: ignore[attr-defined]
    server.lock = threading.Lock()  # type: ignore[attr-defined]
    return server


def start() -> tuple[subprocess.Popen, str]:
    """The stub in its own process; returns it and its base URL."""
    proc = subprocess.Popen([sys.executable, __file__], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


def main() -> None:
    server = serve()
    print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
