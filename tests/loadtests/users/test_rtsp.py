"""The plain-socket RTSP viewer against a real `camsim serve`."""

from __future__ import annotations

import json
import signal
import statistics
import subprocess
import sys
import time

import pytest
import requests

from loadtests.users.rtsp import RtspError, RtspViewer
from simulator.streams.rtp import keyframe_at
from tests.loadtests.users.conftest import ENV, ROOT


def test_the_viewer_counts_the_frames_the_server_sent(serve) -> None:
    # the sub stream, which nothing else watches (ZoneMinder records the main streams)
    cam = "h264cam-001"
    assert f'camsim_stream_clients{{camera="{cam}",stream="sub"}} 0' in serve.metrics()
    before = serve.frames_sent(cam, "sub")
    st = RtspViewer(serve.url(cam, "sub")).watch(4.0)
    after = serve.frames_sent(cam, "sub")
    assert st.codec == "h264"
    # 5 fps for 4 s, from the first keyframe (a GOP of 10 frames: 2 s at most) on
    assert 9 <= st.frames <= 21
    # the viewer reads up to TEARDOWN's answer, after the last frame the server sent it
    assert st.drained and after - before == st.frames
    assert st.seq_gaps == 0
    assert st.first_keyframe_s is not None and st.first_frame_s == st.first_keyframe_s
    assert st.keyframes >= 1
    assert 0 < st.max_frame_gap_s < 0.5
    assert 0.01e6 < st.bitrate_bps < 1e6
    assert st.describe_s > 0 and st.setup_s > 0 and st.play_s > 0


def test_frames_still_in_the_socket_at_teardown_are_counted(tmp_path) -> None:
    """A viewer that fell behind still counts every frame the server sent it: it reads up to
    TEARDOWN's answer. Here its process is stopped (SIGSTOP) from 2 s into its 4 s viewing
    for 10 s: about 370 kB (a 0.3 Mbps stream) wait in its socket, more than one read takes,
    when the viewing ends. Its own server: nothing else watches the stream."""
    from tests.loadtests.users.conftest import TINY, Serve

    server = Serve([str(TINY), "--cameras", "1", "--rtsp-port", "0", "--api-port", "0",
                    "--no-faults", "--cache", str(tmp_path), "--loop-seconds", "1"])  # fmt: skip
    try:
        cam = "h264cam-001"
        code = (f"import json; from loadtests.users.rtsp import RtspViewer; print(flush=True); "
                f"st = RtspViewer({server.url(cam)!r}).watch(4.0); "
                f"print(json.dumps([st.frames, st.drained, st.seq_gaps]))")  # fmt: skip
        before = server.frames_sent(cam)
        proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                                text=True, env=ENV, cwd=ROOT)  # fmt: skip
        assert proc.stdout is not None
        proc.stdout.readline()  # imported: the viewing starts
        time.sleep(2.0)
        proc.send_signal(signal.SIGSTOP)
        time.sleep(10.0)
        proc.send_signal(signal.SIGCONT)
        out, _ = proc.communicate(timeout=30)
        frames, drained, gaps = json.loads(out)
        assert drained and gaps == 0
        assert 100 <= frames == server.frames_sent(cam) - before  # 10 fps, 12 s
    finally:
        server.stop()


def test_camera_to_viewer_latency_comes_from_the_sei(serve) -> None:
    st = RtspViewer(serve.url("h264cam-002")).watch(2.0)
    assert len(st.latencies) == st.frames > 0
    assert 0 < statistics.median(st.latencies) < 0.05
    assert max(st.latencies) < 0.5


def test_injected_packet_loss_shows_as_sequence_gaps(serve) -> None:
    cam = "h264cam-002"
    fault = {"kind": "packet_loss", "percent": 30.0, "duration_s": 5.0}
    token = {"Authorization": f"Bearer {serve.ready['token']}"}
    r = requests.post(f"{serve.ready['api']}api/cameras/{cam}/faults", json=fault,
                      headers=token, timeout=10)  # fmt: skip
    assert r.status_code in (200, 201, 202), r.text
    st = RtspViewer(serve.url(cam)).watch(2.5)
    assert st.seq_gaps > 0 and st.packets > 0


def test_an_unknown_stream_is_a_one_line_error(serve) -> None:
    with pytest.raises(RtspError, match="DESCRIBE answered 404"):
        RtspViewer(serve.url("no-such-camera")).watch(1.0)


@pytest.mark.parametrize(
    ("codec", "payload", "key"),
    [
        ("h264", bytes([0x65, 0]), True),  # IDR
        ("h264", bytes([0x41, 0]), False),  # non-IDR slice
        ("h264", bytes([0x7C, 0x85]), True),  # FU-A start of an IDR
        ("h264", bytes([0x7C, 0x05]), False),  # FU-A continuation
        ("h264", bytes([0x18, 0, 2, 0x67, 0, 0, 2, 0x65, 0]), True),  # STAP-A SPS + IDR
        ("h265", bytes([19 << 1, 1]), True),  # IDR_W_RADL
        ("h265", bytes([1 << 1, 1]), False),  # TRAIL_R
        ("h265", bytes([49 << 1, 1, 0x80 | 20]), True),  # FU start of a CRA
        ("mjpeg", b"\x00", True),
    ],
)
def test_keyframes_are_told_by_nal_type(codec: str, payload: bytes, key: bool) -> None:
    assert keyframe_at(codec, payload) is key


@pytest.mark.parametrize("scheme", ["digest", "basic"])
def test_the_viewer_logs_in_with_the_url_s_credentials(scheme: str, tmp_path) -> None:
    from tests.loadtests.users.conftest import TINY, Serve

    server = Serve([str(TINY), "--cameras", "1", "--rtsp-port", "0", "--api-port", "0",
                    "--no-faults", "--cache", str(tmp_path), "--loop-seconds", "1",
                    "--user", "op", "--password", "s3cret:x", "--auth", scheme])  # fmt: skip
    try:
        port = server.ready["rtsp_port"]
        st = RtspViewer(f"rtsp://op:s3cret%3Ax@127.0.0.1:{port}/h264cam-001/main").watch(1.5)
        assert st.frames > 0
        with pytest.raises(RtspError, match="DESCRIBE answered 401"):
            RtspViewer(f"rtsp://op:wrong@127.0.0.1:{port}/h264cam-001/main").watch(1.0)
        with pytest.raises(RtspError, match="DESCRIBE answered 401"):
            RtspViewer(f"rtsp://127.0.0.1:{port}/h264cam-001/main").watch(1.0)
    finally:
        server.stop()
