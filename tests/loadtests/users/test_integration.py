"""The alarm integration user against the real ZoneMinder recording a camsim camera: it raises
the schedule's alarms when due, the operators acknowledge them, ZoneMinder marks the frames."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from simulator.targets import FastClient
from simulator.targets.zoneminder import ZoneMinder
from simulator.timeline.event import Event
from tests.loadtests.users.conftest import ENV, ROOT, TINY

PREFIX = "h8-"  # this test's monitors (other tests share the ZoneMinder)
CAMERA = "h264cam-002"
ALARMS = 3


def _purge(zm: ZoneMinder, target_id: str) -> None:
    zm.delete_events(target_id)
    zm.remove_camera(target_id)


def test_the_integration_raises_each_alarm_and_zoneminder_marks_it(
    zoneminder_root: str, serve, write_timeline, wait_for, tmp_path: Path
) -> None:
    client = FastClient(timeout_s=15)
    zm = ZoneMinder(client, zoneminder_root, monitor={"DecodingEnabled": 1})  # alarms analyse
    zm.login()
    for cam in zm.list_cameras():  # left over by an interrupted run
        if cam.name.startswith(PREFIX):
            _purge(zm, cam.target_id)
    tid = zm.add_camera(PREFIX + "alarm", serve.url(CAMERA), 320, 180, 10)
    try:
        fps = lambda: [c.capture_fps or 0 for c in zm.list_cameras() if c.target_id == tid]  # noqa: E731
        wait_for("a capture", lambda: fps() and fps()[0] > 0, 90)
        wait_for("recording", lambda: zm.alarm_state(tid) == 4, 30)  # 4: recording
        since = datetime.now(UTC).replace(microsecond=0)
        # three alarm checks of 4 s, 8 s apart, by two operators (the model's kind and params)
        events = [Event(2.0 + 8.0 * i, "alarm", CAMERA, params={"duration_s": 4.0,
                        "operator": i % 2}) for i in range(ALARMS)]  # fmt: skip
        camera_map = tmp_path / "cameras.json"
        camera_map.write_text(json.dumps({CAMERA: tid}))
        summary = tmp_path / "summary.json"
        t0 = time.monotonic()
        run = subprocess.run(
            [sys.executable, "-m", "simulator.cli", "loadtest", str(TINY), "--target",
             "zoneminder", "--host", zoneminder_root, "--timeline", str(write_timeline(events)),
             "--camera-map", str(camera_map), "--integration", "--summary", str(summary)],
            capture_output=True, text=True, env=ENV, cwd=ROOT, timeout=180,
        )  # fmt: skip
        assert summary.exists(), run.stderr[-2000:]
        got = json.loads(summary.read_text())
        assert run.returncode == 0, (got["errors"], run.stdout[-1500:])
        raised, checked = got["integration"]["alarm"], got["actions"]["alarm"]
        assert (raised["scheduled"], raised["count"], raised["failures"]) == (ALARMS, ALARMS, 0)
        assert raised["late"] == raised["dropped"] == 0 and raised["lag_p99_ms"] < 100
        assert (checked["count"], checked["failures"]) == (ALARMS, 0)  # acknowledged
        assert "integration/alarm" in run.stdout  # its row in the table
        assert time.monotonic() - t0 < 60  # the schedule's 22 s and start-up, no grace wait
        # ZoneMinder saw the alarms: alarmed frames in what it recorded, then no alarm left
        alarmed = wait_for(
            "events with alarm frames",
            lambda: [e for e in zm.events(tid, since, datetime.now(UTC)) if e.alarm_frames > 0],
            30,
        )
        assert sum(e.alarm_frames for e in alarmed) >= ALARMS
        assert zm.alarm_state(tid) != 2
    finally:
        _purge(zm, tid)
        client.close()
    assert tid not in {
        c.target_id for c in ZoneMinder(FastClient(), zoneminder_root).list_cameras()
    }
