"""The plain-socket RTSP viewer against a real `camsim serve`."""

from __future__ import annotations

import statistics

import pytest
import requests

from loadtests.users.rtsp import RtspError, RtspViewer, keyframe_nal


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
    # the server counts frames as it sends them; TEARDOWN reaches it a frame or so after
    # the viewer stopped reading
    assert 0 <= (after - before) - st.frames <= 2
    assert st.seq_gaps == 0
    assert st.first_keyframe_s is not None and st.first_frame_s == st.first_keyframe_s
    assert st.keyframes >= 1
    assert 0 < st.max_frame_gap_s < 0.5
    assert 0.01e6 < st.bitrate_bps < 1e6
    assert st.describe_s > 0 and st.setup_s > 0 and st.play_s > 0


def test_camera_to_viewer_latency_comes_from_the_sei(serve) -> None:
    st = RtspViewer(serve.url("h264cam-002")).watch(2.0)
    assert len(st.latencies) == st.frames > 0
    assert 0 < statistics.median(st.latencies) < 0.05
    assert max(st.latencies) < 0.5


def test_injected_packet_loss_shows_as_sequence_gaps(serve) -> None:
    cam = "h264cam-002"
    fault = {"kind": "packet_loss", "percent": 30.0, "duration_s": 5.0}
    r = requests.post(f"{serve.ready['api']}api/cameras/{cam}/faults", json=fault, timeout=10)
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
    assert keyframe_nal(codec, payload) is key


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
