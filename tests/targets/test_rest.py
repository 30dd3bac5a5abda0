"""The generic REST target: its mapping checks, a tiny real HTTP server, and real ZoneMinder."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from simulator.targets import FastClient, NotSupported, TargetError
from simulator.targets.mapping import MappingError, load_mapping
from simulator.targets.rest import MAPPINGS, RestTarget
from simulator.targets.zoneminder import ZoneMinder

SHIPPED = sorted(MAPPINGS.glob("*.yaml"))


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shipped_mappings_load_and_say_whether_they_are_tested(path: Path) -> None:
    mapping = load_mapping(path)
    assert mapping.actions and "health" in mapping.actions
    header = path.read_text().split("\nname:")[0]
    assert ("Tested against the real" in header) != ("UNTESTED" in header)


def test_the_untested_mappings_are_the_published_apis_of_mediamtx_and_milestone() -> None:
    assert {p.stem for p in SHIPPED} >= {"mediamtx-v3", "milestone-api-gateway", "zoneminder-1.36"}


GOOD = """
name: demo
actions:
  health: {path: ok}
"""


@pytest.mark.parametrize(
    ("text", "where"),
    [
        (GOOD.replace("ok}", '"ok/{camera_id}"}'), "actions.health.path: unknown placeholder"),
        (GOOD.replace("health", "fly"), "actions.fly"),
        (GOOD.replace("{path: ok}", "{path: ok, method: FETCH}"), "actions.health.method"),
        (GOOD.replace("{path: ok}", "{path: ok, fields: {frames: x}}"), "actions.health.fields"),
        (GOOD.replace("{path: ok}", "{path: ok, server: other}"), "actions.health.server"),
        (GOOD.replace("{path: ok}", "{path: ok, colour: red}"), "actions.health.colour"),
        (GOOD.replace("name: demo", "name: [demo"), "line"),
        ("actions: {}", "name"),
    ],
    ids=lambda v: v if "\n" not in v else None,
)  # fmt: skip
def test_bad_mapping_is_one_line_naming_the_file_and_field(
    tmp_path: Path, text: str, where: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(MappingError) as err:
        load_mapping(path)
    message = str(err.value)
    assert message.startswith(str(path)) and where in message, message
    assert "\n" not in message


# --- a tiny HTTP server that behaves like a small VMS --------------------------------------
DEMO = """
name: demo
time_format: "%d/%m/%Y %H:%M"
timezone: Europe/Paris
auth:
  login: {method: POST, path: token, form: {u: "{user}", p: "{password}"}, result: tok}
  expires_in: ttl
  headers: {Authorization: "Bearer {token}"}
actions:
  health: {path: health}
  list_cameras:
    path: cams
    result: data.cams
    fields: {target_id: id, name: label, enabled: active, capture_fps: rate.fps}
  add_camera:
    method: POST
    path: cams
    json: {name: "{camera_id}", url: "{rtsp_url}", size: ["{width}", "{height}"], note: "{fps} fps"}
    expect: [201]
    result: new.id
  remove_camera: {method: DELETE, path: "cams/{target_id}", expect: [204]}
  events:
    path: "cams/{target_id}/recordings"
    query: {from: "{since}"}
    fields: {start: begin, duration_s: secs, frames: n}
  live_view: {path: "cams/{target_id}/mjpeg", stream: true}
  snapshot: {path: broken}
"""


class Demo(BaseHTTPRequestHandler):
    seen: list[tuple[str, str, object]] = []

    def log_message(self, *args: object) -> None:  # quiet
        pass

    def _send(self, status: int, body: object = None, ctype: str = "application/json") -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        if self.path == "/token":
            form = {k: v[0] for k, v in parse_qs(raw).items()}
            ok = form == {"u": "op", "p": "pw"}
            return self._send(200 if ok else 401, {"tok": "t0k", "ttl": 3600} if ok else None)
        if self.headers.get("Authorization") != "Bearer t0k":
            return self._send(401)
        self.seen.append(("POST", self.path, json.loads(raw)))
        self._send(201, {"new": {"id": 42}})

    def do_DELETE(self) -> None:
        self.seen.append(("DELETE", self.path, self.headers.get("Authorization")))
        self._send(204)

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if self.headers.get("Authorization") != "Bearer t0k":
            return self._send(401)
        self.seen.append(("GET", self.path, None))
        if url.path == "/cams":
            cams = [{"id": 7, "label": "gate", "active": "0", "rate": {"fps": "9.5"}}]
            return self._send(200, {"data": {"cams": cams}})
        if url.path == "/cams/7/recordings":
            rows = [{"begin": "01/12/2026 21:00", "secs": 60, "n": 600}, {"begin": 1796158860}]
            return self._send(200, rows)
        if url.path == "/cams/7/mjpeg":
            self.send_response(200)
            self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
            self.end_headers()
            for _ in range(5):
                self.wfile.write(b"--frame\r\nContent-Type: image/jpeg\r\n\r\n" + b"\xff" * 3000)
                self.wfile.flush()
                time.sleep(0.02)
            return None
        self._send(500, {"error": "boom"})


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[RestTarget]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Demo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    mapping = tmp_path / "demo.yaml"
    mapping.write_text(DEMO)
    Demo.seen = []
    url = f"http://127.0.0.1:{server.server_port}"
    client = FastClient(timeout_s=5)
    try:
        yield RestTarget(client, url, mapping, user="op", password="pw")
    finally:
        client.close()
        server.shutdown()
        server.server_close()


def test_login_then_requests_carry_the_token(demo: RestTarget) -> None:
    with pytest.raises(TargetError, match="401"):
        demo.list_cameras()  # not logged in yet
    demo.login()
    (cam,) = demo.list_cameras()
    assert (cam.target_id, cam.name, cam.enabled, cam.capture_fps) == ("7", "gate", False, 9.5)


def test_wrong_password_fails_the_login(demo: RestTarget) -> None:
    demo.password = "nope"
    with pytest.raises(TargetError, match="login: POST .*/token answered 401"):
        demo.login()


def test_add_and_remove_fill_typed_json_and_paths(demo: RestTarget) -> None:
    demo.login()
    target_id = demo.add_camera("cam 1/a", "rtsp://127.0.0.1:8554/x", 320, 180, 12.5)
    demo.remove_camera(target_id)
    body = {"name": "cam 1/a", "url": "rtsp://127.0.0.1:8554/x", "size": [320, 180],
            "note": "12.5 fps"}  # fmt: skip
    assert target_id == "42"
    assert Demo.seen == [("POST", "/cams", body), ("DELETE", "/cams/42", "Bearer t0k")]


def test_events_read_the_mappings_times_in_its_time_zone(demo: RestTarget) -> None:
    demo.login()
    since = datetime(2026, 12, 1, 19, 30, tzinfo=UTC)
    first, second = demo.events("7", since, since + timedelta(hours=1))
    # 21:00 in Paris in winter is 20:00 UTC; numbers are Unix times.
    assert first.start == datetime(2026, 12, 1, 20, 0, tzinfo=UTC)
    assert first.end == datetime(2026, 12, 1, 20, 1, tzinfo=UTC) and first.frames == 600
    assert second.start == datetime.fromtimestamp(1796158860, UTC) and second.end is None
    assert Demo.seen[-1] == ("GET", "/cams/7/recordings?from=01%2F12%2F2026+20%3A30", None)


def test_live_view_counts_the_parts_of_a_multipart_stream(demo: RestTarget) -> None:
    demo.login()
    got = demo.live_view("7", 5.0)
    assert (got.parts, got.bytes) == (
        5,
        5 * (len(b"--frame\r\nContent-Type: image/jpeg\r\n\r\n") + 3000),
    )
    assert got.seconds < 5  # the server ended the stream


def test_unexpected_status_and_unmapped_actions_are_clear(demo: RestTarget) -> None:
    demo.login()
    with pytest.raises(TargetError, match=r"demo: snapshot: GET .*/broken answered 500: .*boom"):
        demo.snapshot("7")
    with pytest.raises(NotSupported, match="demo: alarm is not supported .not in the demo mapping"):
        demo.alarm("7", on=True)


# --- the ZoneMinder mapping against the real ZoneMinder --------------------------------------
def test_zoneminder_mapping_drives_the_real_zoneminder(
    zoneminder_url: str,
    camsim,
    http,
    wait_for,
) -> None:
    zm = RestTarget(http, zoneminder_url, MAPPINGS / "zoneminder-1.36.yaml")
    cleanup = ZoneMinder(FastClient(), zoneminder_url)
    zm.login()
    assert zm.health()["version"].startswith("1.36.")
    since = datetime.now(UTC).replace(microsecond=0)
    target_id = zm.add_camera("camsim-test-rest", camsim.urls[0], 320, 180, 10)
    try:
        cam = wait_for(
            "the monitor Connected",
            lambda: [c for c in zm.list_cameras() if c.target_id == target_id],
            30,
            until=lambda cams: cams and cams[0].status == "Connected",
        )[0]
        assert cam.name == "camsim-test-rest" and cam.url == camsim.urls[0]
        events = wait_for(
            "an event with frames",
            lambda: zm.events(target_id, since, datetime.now(UTC) + timedelta(seconds=5)),
            45,
            until=lambda evs: any(e.frames > 0 for e in evs),
        )
        assert events[0].start >= since and events[0].target_id == target_id
        assert zm.snapshot(target_id).startswith(b"\xff\xd8")
        assert zm.live_view(target_id, 1.0).parts >= 1
        zm.alarm(target_id, on=True)
        zm.acknowledge(target_id)
        lines = zm.log_lines(since)
        assert any("camsim-test-rest" in line for line in lines), lines[-5:]
        times = [line.split()[0] for line in lines]
        assert times == sorted(times)  # oldest first (ISO times in UTC sort as text)
    finally:
        zm.remove_camera(target_id)
        cleanup.delete_events(target_id)
    assert target_id not in {c.target_id for c in zm.list_cameras()}
    assert set(http.names) <= {"health", "list_cameras", "add_camera", "events", "snapshot",
                               "live_view", "alarm", "acknowledge", "log_lines",
                               "remove_camera"}  # fmt: skip
