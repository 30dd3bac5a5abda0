"""The ZoneMinder adapter against a real ZoneMinder 1.36 recording two real camsim cameras.

Two monitors: `rec` records without decoding (the adapter's default, ~1 % of a core at 1080p),
`live` decodes too, so that snapshots and live views have a picture. Events are cut every
SECTION_S seconds so that whole ones appear within the test's time.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import cv2
import numpy as np
import pytest

from simulator.targets import FastClient, NotSupported, RecordedSpan, TargetError
from simulator.targets.zoneminder import ZoneMinder

FPS = 10  # tiny.yaml's h264cam: 320x180 at 10 fps, a key frame every 10 frames
SECTION_S = 20
PREFIX = "camsim-test-"


@dataclass
class Monitors:
    rec: str
    live: str
    since: datetime


@pytest.fixture(scope="module")
def zm_client() -> Iterator[FastClient]:
    client = FastClient(timeout_s=15)
    yield client
    client.close()


@pytest.fixture(scope="module")
def zm(zoneminder_url: str, zm_client: FastClient) -> ZoneMinder:
    target = ZoneMinder(zm_client, zoneminder_url)
    target.login()
    return target


def _purge(zm: ZoneMinder, target_id: str) -> None:
    zm.remove_camera(target_id)
    zm.delete_events(target_id)


@pytest.fixture(scope="module")
def monitors(
    zm: ZoneMinder, zoneminder_url: str, zm_client: FastClient, camsim
) -> Iterator[Monitors]:
    for cam in zm.list_cameras():  # left over by an interrupted run
        if cam.name.startswith(PREFIX):
            _purge(zm, cam.target_id)
    since = datetime.now(UTC).replace(microsecond=0)
    added: list[str] = []
    try:
        for name, url, decoding in (("rec", camsim.urls[0], 0), ("live", camsim.urls[1], 1)):
            settings = {"SectionLength": SECTION_S, "DecodingEnabled": decoding}
            target = ZoneMinder(zm_client, zoneminder_url, monitor=settings)
            added.append(target.add_camera(PREFIX + name, url, 320, 180, FPS))
        yield Monitors(rec=added[0], live=added[1], since=since)
    finally:
        for target_id in added:
            _purge(zm, target_id)


def _closed(zm: ZoneMinder, target_id: str, since: datetime) -> list[RecordedSpan]:
    now = datetime.now(UTC)
    return [r for r in zm.events(target_id, since, now) if r.end is not None and r.frames > 0]


def test_health_says_version_daemons_and_time_zone(zm: ZoneMinder) -> None:
    health = zm.health()
    assert health["version"].startswith("1.36.") and health["apiversion"] == "2.0"
    assert health["daemons_running"] is True
    assert health["timezone"] == "UTC"  # the setup script's ZM_TIMEZONE and PHP date.timezone
    assert len(health["load"]) == 3


def test_both_cameras_are_listed_and_captured_at_their_rate(zm, monitors, wait_for) -> None:
    # ZoneMinder's CaptureFPS is its own average since its last report, off while the stream
    # starts (2.7 then 25 fps seen in the first seconds): wait until it reads FPS ±10 %.
    def rates() -> list:
        cams = {c.target_id: c for c in zm.list_cameras()}
        return [cams.get(monitors.rec), cams.get(monitors.live)]

    def at_rate(cams: list) -> bool:
        return all(
            c and c.status == "Connected" and abs((c.capture_fps or 0) - FPS) <= 0.1 * FPS
            for c in cams
        )

    got = wait_for("both monitors Connected at the camera rate", rates, 45, until=at_rate)
    rec, live = got
    assert (rec.name, live.name) == (PREFIX + "rec", PREFIX + "live")
    assert rec.enabled and rec.url.startswith("rtsp://127.0.0.1:")
    assert zm.capture_daemon(monitors.rec)["status"] is True


def test_records_whole_events_at_the_camera_rate_without_gaps(zm, monitors, wait_for) -> None:
    # Two closed events each: the first holds the frames buffered before it opened (from the
    # last key frame), the second is a whole section.
    for target_id in (monitors.rec, monitors.live):
        events = wait_for(
            f"two closed events of monitor {target_id}",
            lambda t=target_id: (e := _closed(zm, t, monitors.since))[1:] and e,
            3 * SECTION_S + 30,
        )
        first, second = events[0], events[1]
        assert first.start >= monitors.since and first.cause == "Continuous"
        # The camera sends exactly FPS frames a second; ZoneMinder's Length is to 0.01 s and
        # events are cut at key frames: frames / length within 3 %.
        assert second.frames / second.length_s == pytest.approx(FPS, rel=0.03)
        assert second.length_s == pytest.approx(SECTION_S, abs=1.5)
        assert first.frames >= 0.97 * FPS * first.length_s
        # DB times are whole seconds: the next event starts when the previous one ends.
        assert abs((second.start - first.end).total_seconds()) <= 1


def test_snapshot_is_a_picture_only_when_decoding(zm, monitors, wait_for) -> None:
    wait_for("a capture", lambda: _closed(zm, monitors.live, monitors.since) or None, 60)
    picture = cv2.imdecode(np.frombuffer(zm.snapshot(monitors.live), np.uint8), cv2.IMREAD_COLOR)
    assert picture is not None and picture.shape == (180, 320, 3)
    assert picture.mean() > 20 and picture.std() > 20  # a scene, not a flat frame
    # ZoneMinder quirk: without decoding it serves a black placeholder JPEG.
    blank = cv2.imdecode(np.frombuffer(zm.snapshot(monitors.rec), np.uint8), cv2.IMREAD_COLOR)
    assert blank is not None and blank.mean() < 10


def test_live_view_streams_frames_near_the_camera_rate(zm, monitors) -> None:
    seconds = 3.0
    got = zm.live_view(monitors.live, seconds)
    assert got.content_type.startswith("multipart/x-mixed-replace")
    assert got.first_byte_s is not None and got.first_byte_s < 2
    # zms sends each captured frame; allow half to double (start-up, its own pacing).
    assert FPS * seconds / 2 <= got.parts <= FPS * seconds * 2
    assert got.bytes > got.parts * 1000  # real JPEGs of a 320x180 scene (placeholders: 2.5 kB)
    assert got.seconds < seconds + 2


def test_playback_and_export_of_a_recorded_event(zm, monitors, wait_for, tmp_path) -> None:
    def second_closed(target_id: str) -> RecordedSpan | None:
        events = _closed(zm, target_id, monitors.since)
        return events[1] if len(events) > 1 else None

    live = wait_for("two closed events", lambda: second_closed(monitors.live), 90)
    played = zm.playback(monitors.live, live.start + timedelta(seconds=2), 3.0, speed=1.0)
    assert played.parts >= FPS * 3 / 3  # at least a third of the frames at 1x
    whole = wait_for("two closed events", lambda: second_closed(monitors.rec), 30)
    mp4 = tmp_path / "export.mp4"
    with mp4.open("wb") as out:
        exported = zm.export(monitors.rec, whole.start + timedelta(seconds=1), 2.0, out)
    assert exported.parts == 1 and exported.bytes == mp4.stat().st_size > 0
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams",
         str(mp4)], capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    info = json.loads(probe.stdout)
    video = info["streams"][0]
    assert (video["codec_name"], video["width"], video["height"]) == ("h264", 320, 180)
    # Passthrough: the file is the camera's video for the event's length (±1 s: key frames).
    assert float(info["format"]["duration"]) == pytest.approx(whole.length_s, abs=1.0)


def test_alarm_marks_frames_and_acknowledge_cancels_it(zm, monitors, wait_for) -> None:
    wait_for("a capture", lambda: zm.alarm_state(monitors.live) == 4, 60)  # 4: recording
    raised = datetime.now(UTC).replace(microsecond=0)
    zm.alarm(monitors.live, on=True)
    try:
        wait_for("alarm state", lambda: zm.alarm_state(monitors.live) == 2, 10, 0.2)
    finally:
        zm.acknowledge(monitors.live)
    wait_for("alarm cancelled", lambda: zm.alarm_state(monitors.live) != 2, 10, 0.2)
    alarmed = wait_for(
        "an event with alarm frames",
        lambda: [
            e for e in zm.events(monitors.live, raised, datetime.now(UTC)) if e.alarm_frames > 0
        ],
        15,
    )
    assert alarmed[0].target_id == monitors.live


def test_log_lines_say_what_zoneminder_noticed(zm, monitors, wait_for) -> None:
    lines = wait_for(
        "a log line about the rec monitor",
        lambda: [ln for ln in zm.log_lines(monitors.since) if f"{PREFIX}rec:" in ln],
        60,
    )
    assert all(line[:4].isdigit() for line in lines)
    assert any("Capturing at" in line or "Opened new event" in line for line in lines)


def test_unreachable_camera_is_added_noticed_and_removed(zm, wait_for) -> None:
    since = datetime.now(UTC)
    target_id = zm.add_camera(PREFIX + "gone", "rtsp://127.0.0.1:9/nothing", 320, 180, FPS)
    try:
        assert PREFIX + "gone" in {c.name for c in zm.list_cameras()}
        wait_for(
            "an error logged for the unreachable camera",
            lambda: [ln for ln in zm.log_lines(since) if f"{PREFIX}gone" in ln or
                     f"zmc_m{target_id} ERR" in ln],
            30,
        )  # fmt: skip
        assert all(c.status != "Connected" for c in zm.list_cameras() if c.target_id == target_id)
    finally:
        _purge(zm, target_id)
    assert target_id not in {c.target_id for c in zm.list_cameras()}
    with pytest.raises(TargetError, match="404"):
        zm.capture_daemon(target_id)


def test_login_with_a_user_while_auth_is_off_fails_clearly(zoneminder_url: str) -> None:
    # The shared ZoneMinder runs with OPT_USE_AUTH off (other tests use it): it then answers
    # login.json with 200 and null tokens, which must not pass for a session.
    with pytest.raises(TargetError, match="no access_token .is OPT_USE_AUTH off"):
        ZoneMinder(FastClient(), zoneminder_url, "admin", "admin").login()


def test_ptz_is_not_supported(zm: ZoneMinder) -> None:
    with pytest.raises(NotSupported, match="ptz"):
        zm.ptz("1", 0.1, 0, 0)


def test_request_names_are_action_kinds(zoneminder_url: str, http, monitors) -> None:
    zm = ZoneMinder(http, zoneminder_url)
    zm.login()
    zm.health()
    zm.list_cameras()
    zm.live_view(monitors.live, 0.5)
    zm.snapshot(monitors.live)
    zm.events(monitors.live, monitors.since, datetime.now(UTC))
    zm.log_lines(datetime.now(UTC) - timedelta(seconds=5))
    assert set(http.names) == {"login", "health", "list_cameras", "live_view", "snapshot",
                               "events", "log_lines"}  # fmt: skip


def test_locust_events_from_the_adapter_in_a_patched_process(zoneminder_url: str) -> None:
    # Locust monkey-patches the process with gevent on import: run it in its own interpreter.
    code = f"""
import locust
from locust.event import Events
from simulator.targets.http import FastClient
from simulator.targets.zoneminder import ZoneMinder
events, seen = Events(), []
events.request.add_listener(lambda name, exception, **kw: seen.append((name, exception)))
zm = ZoneMinder(FastClient(fire=events.request.fire), {zoneminder_url!r})
zm.login()
print(zm.health()["version"], sorted(set(seen)))
"""
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr[-2000:]
    version, names = run.stdout.strip().split(" ", 1)
    assert version.startswith("1.36.") and names == "[('health', None), ('login', None)]"
