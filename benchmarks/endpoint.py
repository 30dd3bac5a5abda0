"""A fast local endpoint for the load benchmarks: a gevent WSGI server in its own process that
plays a ZoneMinder just enough for the adapter (monitors.json, getTimeZone.json, `{}` for any
other API call) and answers nph-zms with "ok", or with an endless MJPEG-like stream of one
small part every `stream_s` seconds; it counts the nph-zms requests it took (GET /count).
Plus what the benchmarks read of a process: its CPU seconds and RSS, from /proc."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")

SERVER = """
import json, sys
from gevent import monkey; monkey.patch_all()
import gevent
from gevent.pywsgi import WSGIServer
names, stream_s = sys.argv[1].split(","), float(sys.argv[2])
count = [0]
MONITORS = json.dumps({"monitors": [{"Monitor": {"Id": str(i + 1), "Name": n, "Enabled": "1",
    "Path": ""}, "Monitor_Status": {"Status": "Connected", "CaptureFPS": "25"}}
    for i, n in enumerate(names)]}).encode()
PART = b"--F\\r\\nContent-Type: image/jpeg\\r\\nContent-Length: 100\\r\\n\\r\\n" + b"x" * 100
def parts():
    while True:
        yield PART
        gevent.sleep(stream_s)
def app(env, start):
    path = env["PATH_INFO"]
    if path == "/count":
        body, ctype = str(count[0]).encode(), "text/plain"
    elif path.endswith("/monitors.json"):
        body, ctype = MONITORS, "application/json"
    elif path.endswith("/getTimeZone.json"):
        body, ctype = b'{"tz": "UTC"}', "application/json"
    elif "/api/" in path:
        body, ctype = b"{}", "application/json"
    else:
        count[0] += 1
        if stream_s > 0:
            start("200 OK", [("Content-Type", "multipart/x-mixed-replace; boundary=F")])
            return parts()
        body, ctype = b"ok", "text/plain"
    start("200 OK", [("Content-Type", ctype), ("Content-Length", str(len(body)))])
    return [body]
s = WSGIServer(("127.0.0.1", 0), app, log=None, spawn=10000)
s.start(); print(s.server_port, flush=True); s.serve_forever()
"""


class Endpoint:
    """The server, started; `port`, `served()`, `stop()`."""

    def __init__(self, cameras: list[str], stream_s: float = 0.0) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", SERVER, ",".join(cameras), str(stream_s)],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert self.proc.stdout is not None
        self.port = int(self.proc.stdout.readline())

    def served(self) -> int:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/count", timeout=10) as r:
            return int(r.read())

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def rss_mb(pid: int) -> float:
    """Resident set size of a process, MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")
