"""The motion adapter against a real motion 4.5 recording two real camsim cameras."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest

from simulator.targets import FastClient, NotSupported, TargetError
from simulator.targets.motion import Motion
from simulator.targets.motion_config import MotionCamera, MotionConfig

FPS = 10  # tiny.yaml's h264cam: 320x180 at 10 fps
MOVIE_S = 10


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Running:
    motion: Motion
    since: datetime
    urls: list[str]
    movies: Path


@pytest.fixture(scope="module")
def running(camsim, motion_version, tmp_path_factory, wait_for) -> Iterator[Running]:
    assert motion_version.startswith("4.")
    directory = tmp_path_factory.mktemp("motion")
    cams = [MotionCamera(i + 1, url, 320, 180, FPS) for i, url in enumerate(camsim.urls)]
    web, stream = _free_port(), _free_port()
    conf = MotionConfig(cams, web, stream, movie_s=MOVIE_S).write(directory)
    since = datetime.now(UTC).replace(microsecond=0)
    proc = subprocess.Popen(
        ["motion", "-n", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    client = FastClient(timeout_s=10)
    motion = Motion(
        client, f"http://127.0.0.1:{web}", f"http://127.0.0.1:{stream}",
        directory / "movies", directory / "motion.log",
    )  # fmt: skip
    try:

        def up() -> dict | None:
            try:
                return motion.health()
            except TargetError:
                return None

        wait_for("motion's webcontrol", up, 20, 0.5)
        yield Running(motion, since, camsim.urls, directory / "movies")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        client.close()


def test_health_and_cameras(running: Running, wait_for) -> None:
    health = running.motion.health()
    assert health["version"].startswith("4.5.") and health["cameras"] == 2
    cams = wait_for(
        "both cameras connected",
        running.motion.list_cameras,
        20,
        until=lambda cs: len(cs) == 2 and all(c.status == "OK" for c in cs),
    )
    assert [c.url for c in cams] == running.urls
    assert [(c.target_id, c.name, c.enabled) for c in cams] == [
        ("1", "cam1", True),
        ("2", "cam2", True),
    ]


def test_snapshot_and_live_view_show_the_scene(running: Running, wait_for) -> None:
    jpeg = wait_for("a snapshot", lambda: _snapshot(running.motion), 20)
    picture = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    # motion rounds its picture sizes up to multiples of 8: 320x180 → 320x184.
    assert picture.shape == (184, 320, 3) and picture.std() > 20
    got = running.motion.live_view("2", 3.0)
    assert got.content_type.startswith("multipart/x-mixed-replace")
    # stream_maxrate is the camera rate; allow a third to double (motion paces its own stream).
    assert FPS * 3 / 3 <= got.parts <= FPS * 3 * 2, got


def _snapshot(motion: Motion) -> bytes | None:
    try:
        return motion.snapshot("1")
    except TargetError:
        return None


def test_detection_and_config_controls(running: Running) -> None:
    m = running.motion
    m.detection("1", on=False)
    assert m.detection_status("1") == "PAUSE"
    m.detection("1", on=True)
    assert m.detection_status("1") == "ACTIVE"
    assert m.config_get("2", "movie_max_time") == str(MOVIE_S)
    m.config_set("2", "text_left", "camsim")
    assert m.config_list("2")["text_left"] == "camsim"
    with pytest.raises(TargetError, match="Bad Request"):  # motion answers it with a 200
        m.config_set("2", "no_such_option", "1")


def test_movies_are_its_recordings(running: Running, wait_for, tmp_path) -> None:
    def closed() -> list:
        return [
            r
            for r in running.motion.events("1", running.since, datetime.now(UTC))
            if r.end is not None
        ]

    movies = wait_for("three closed movies", closed, 4 * MOVIE_S + 20, until=lambda r: len(r) >= 3)
    for movie in movies:
        assert movie.start >= running.since - timedelta(seconds=3)
        # motion cuts at movie_max_time and prepends the packets it had buffered (2 to 3 s
        # seen, more under load).
        assert MOVIE_S - 1 <= movie.length_s <= MOVIE_S + 4, movie
        assert movie.frames / movie.length_s == pytest.approx(FPS, rel=0.15), movie
    for before, after in zip(movies[1:], movies[2:], strict=False):
        # No recording gap: the next movie begins within a second of the previous one's end,
        # or overlaps it by the packets it repeats (its length beyond movie_max_time).
        gap = (after.start - before.end).total_seconds()
        assert -(after.length_s - MOVIE_S + 1) <= gap <= 1, (before, after)
    out = tmp_path / "export.mp4"
    with out.open("wb") as f:
        got = running.motion.export("1", movies[1].start + timedelta(seconds=1), 1, f)
    assert got.parts >= 1 and got.bytes == out.stat().st_size
    assert got.bytes >= (running.movies / movies[1].recording_id).stat().st_size > 0


def test_log_lines_say_what_motion_noticed(running: Running) -> None:
    lines = running.motion.log_lines(running.since)
    assert any("Writing movie to file" in line for line in lines)
    assert any("cam1" in line and "connected" in line.lower() for line in lines)


def test_what_motion_cannot_do_is_not_supported(running: Running) -> None:
    with pytest.raises(NotSupported, match="add_camera"):
        running.motion.add_camera("x", "rtsp://127.0.0.1:9/x", 320, 180, FPS)
    with pytest.raises(NotSupported, match="ptz"):
        running.motion.ptz("1", 0.1, 0, 0)
