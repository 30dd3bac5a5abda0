"""`camsim serve` as a user runs it: URLs on stdout, a real client, Ctrl-C, one-line errors."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path

import pytest
from conftest import until

TINY = Path(__file__).with_name("tiny.yaml")
CAMSIM = [sys.executable, "-c", "from simulator.cli import main; main()"]


def _serve(clip_dir: Path, *args: str) -> list[str]:
    """`camsim serve` on the tiny cameras: free ports, the tests' clip cache, 2 s loops."""
    return [*CAMSIM, "serve", str(TINY), "--rtsp-port", "0", "--api-port", "0",
            "--cache", str(clip_dir), "--loop-seconds", "2", *args]  # fmt: skip


def _line(lines: Iterable[str], start: str) -> str:
    """The first line that begins with `start` (what serve prints when it is ready), or ""
    if the output ends first."""
    return next((line for line in lines if line.startswith(start)), "")


def test_serve_lists_urls_serves_and_stops_on_ctrl_c(clip_dir: Path) -> None:
    cmd = _serve(clip_dir, "--cameras", "h264cam-002,h265cam-001", "--speed", "100")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None and proc.stdout is not None
        line = _line(proc.stderr, "camsim serve:")
        assert "2 cameras, 3 streams" in line and "127.0.0.1" in line
        urls = [proc.stdout.readline().split() for _ in range(2)]
        assert [len(u) for u in urls] == [2, 1]  # h264cam-002 has a sub stream
        probe = subprocess.run(
            [
                "ffprobe",
                "-v",
                "error",
                "-show_entries",
                "stream=codec_name",
                "-of",
                "csv=p=0",
                urls[1][0],
            ],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert probe.stdout.strip() == "hevc", probe.stderr
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 0 and "camsim serve: stopped" in err
    finally:
        if proc.poll() is None:
            proc.kill()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--shard", "3/2"], "--shard"),
        (["--cameras", "nope-001"], "unknown camera"),
        (["--user", "admin"], "--password"),
        (["--set", "cameras.0.fps=0"], "cameras.0.fps"),
        (["--timeline", "/nonexistent/t.jsonl"], "/nonexistent/t.jsonl: cannot read"),
    ],
)
def test_serve_bad_input_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "CAMSIM_RTSP_PASSWORD"}
    run = subprocess.run(
        [*CAMSIM, "serve", str(TINY), *args], capture_output=True, text=True, timeout=60, env=env
    )
    assert run.returncode == 2
    assert run.stderr.startswith("camsim: error:") and message in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1


def test_timeline_faults_reach_the_wire(clip_dir: Path, tmp_path: Path) -> None:
    from simulator.streams.client import RtspClient
    from simulator.timeline import Event, write_jsonl

    timeline = tmp_path / "t.jsonl"
    events = [
        Event(100.0, "camera_down", camera="h264cam-002"),  # at speed 20: 5 s after start
        Event(200.0, "camera_up", camera="h264cam-002"),  # 10 s after start
    ]
    with open(timeline, "w") as f:
        write_jsonl(events, f)
    cmd = _serve(clip_dir, "--cameras", "h264cam-002", "--timeline", str(timeline),
                 "--speed", "20", "--quiet")  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        line = _line(proc.stderr, "camsim serve:")
        port = int(line.split("rtsp://127.0.0.1:")[1].split("/")[0])
        url = f"rtsp://127.0.0.1:{port}/h264cam-002/main"
        client = RtspClient(port)
        client.start(url)
        assert client.closed_by_server(timeout=20), "camera_down closes the session"
        client.close()
        probe = RtspClient(port)
        assert probe.request("DESCRIBE", url).status == 503
        back = until(lambda: probe.request("DESCRIBE", url).status == 200, 30, every=0.3)
        assert back, "camera_up brings it back"
        probe.close()
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)


def test_ready_line_health_and_timeline_api(clip_dir: Path, tmp_path: Path) -> None:
    """A harness reads one JSON line for the ports, then asks the API where the replay is."""
    import json
    import urllib.request

    from simulator.streams.records import ReadyLine, cameras_from_json
    from simulator.timeline import Event, write_jsonl

    timeline = tmp_path / "t.jsonl"
    events = [Event(10.0 * k, "jitter", camera="h264cam-002", params={"ms": 5.0,
              "duration_s": 1.0}) for k in range(1, 400)]  # fmt: skip
    with open(timeline, "w") as f:
        write_jsonl(events, f)
    cmd = _serve(clip_dir, "--cameras", "h264cam-002", "--timeline", str(timeline),
                 "--speed", "20")  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        line = _line(proc.stdout, "{")
        ready = json.loads(line)
        assert ready["camsim"] == "ready" and ready["cameras"] == 1 and ready["streams"] == 2
        assert ready["timeline_events"] == 399 and ready["speed"] == 20

        def get(path: str) -> tuple[int, dict]:
            with urllib.request.urlopen(ready["api"].rstrip("/") + path, timeout=10) as r:
                return r.status, json.loads(r.read())

        assert get("/api/health") == (200, {"ready": True, "cameras": 1, "streams": 2})
        assert ready["urls"].endswith("/api/cameras")
        # the records are the wire: the same names, in the same order, the same values
        assert ReadyLine.from_json(line).to_json() == line.strip()
        assert list(ready) == ["camsim", "rtsp", "rtsp_port", "udp_ports", "api", "api_port",
                               "urls", "cameras", "streams", "timeline_events", "speed",
                               "start_at", "replay", "token"]  # fmt: skip
        _, cams = get("/api/cameras")
        assert json.dumps([c.to_dict() for c in cameras_from_json(cams)]) == json.dumps(cams)
        assert list(cams[0]) == ["id", "district", "state", "night", "faults", "streams"]
        assert list(cams[0]["streams"]["main"]) == [
            "url", "codec", "width", "height", "fps", "bitrate_mbps", "target_mbps", "clients",
            "frames_sent", "bytes_sent", "frames_due", "late_skips", "fault_drops",
            "target_drops", "unsent_bytes", "keyframe_wait_skips"]  # fmt: skip
        time.sleep(2.0)  # 40 simulated seconds: about 4 events applied
        _, t = get("/api/timeline")
        assert t["speed"] == 20 and 30 <= t["sim_time_s"] <= 200
        assert 2 <= t["events_applied"] <= 20 and len(t["applied"]) == t["events_applied"]
        assert t["next"][0]["t"] == 10.0 * (t["events_applied"] + 1)
        assert len(t["next"]) == 20  # bounded
        assert all(a["kind"] == "jitter" and a["wall"] > 1e9 for a in t["applied"])
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)
