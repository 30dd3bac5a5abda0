"""Real clients (ffprobe, ffmpeg, PyAV, OpenCV) open every kind of stream over TCP and UDP.

Loops of the tiny cameras last 2 s, so decoding 4 s crosses at least one loop seam.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

# (path, codec as ffprobe names it, width, height, fps)
STREAMS = [
    ("h264cam-001/main", "h264", 320, 180, 10),
    ("h264cam-001/sub", "h264", 160, 96, 5),
    ("h265cam-001/main", "hevc", 320, 180, 10),
    ("mjpegcam-001/main", "mjpeg", 320, 184, 5),
]
TRANSPORTS = ["tcp", "udp"]


def ffprobe(url: str, transport: str) -> subprocess.Popen:
    return subprocess.Popen(
        [
            "ffprobe",
            "-v",
            "error",
            "-rtsp_transport",
            transport,
            "-show_streams",
            "-of",
            "json",
            url,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def ffmpeg_decode(url: str, transport: str, seconds: float) -> subprocess.Popen:
    """Decode `seconds` of a stream; errors (and only errors) go to stderr."""
    return subprocess.Popen(
        ["ffmpeg", "-nostdin", "-v", "error", "-rtsp_transport", transport, "-i", url,
         "-t", str(seconds), "-f", "null", "-"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )  # fmt: skip


def test_ffprobe_reports_codec_size_and_rate(served) -> None:  # noqa: ANN001
    procs = {
        (path, t): ffprobe(f"rtsp://127.0.0.1:{served.port}/{path}", t)
        for path, *_ in STREAMS
        for t in TRANSPORTS
    }
    for (path, transport), proc in procs.items():
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, (path, transport, err.decode())
        (stream,) = json.loads(out)["streams"]
        want = next(s for s in STREAMS if s[0] == path)
        got = (
            path,
            stream["codec_name"],
            stream["width"],
            stream["height"],
            stream["r_frame_rate"],
        )
        assert got == (*want[:4], f"{want[4]}/1"), transport


def test_h26x_streams_describe_their_colours(served) -> None:  # noqa: ANN001
    """A colour range without a matrix makes GStreamer warn (validate_colorimetry): the VUI
    names all four, BT.709 in limited range, which is what the pictures are converted with."""
    want = {
        "color_range": "tv",
        "color_space": "bt709",
        "color_transfer": "bt709",
        "color_primaries": "bt709",
    }
    for path in ("h264cam-001/main", "h264cam-001/sub", "h265cam-001/main"):
        run = subprocess.run(
            ["ffprobe", "-v", "error", "-rtsp_transport", "tcp", "-show_entries",
             f"stream={','.join(want)}", "-of", "json", f"rtsp://127.0.0.1:{served.port}/{path}"],
            capture_output=True, timeout=60,
        )  # fmt: skip
        assert run.returncode == 0, run.stderr
        (stream,) = json.loads(run.stdout)["streams"]
        assert stream == want, path


def test_ffmpeg_decodes_across_the_loop_seam_without_errors(served) -> None:  # noqa: ANN001
    procs = {
        (path, t): ffmpeg_decode(f"rtsp://127.0.0.1:{served.port}/{path}", t, 4.5)
        for path, *_ in STREAMS
        for t in TRANSPORTS
    }
    for key, proc in procs.items():
        _, err = proc.communicate(timeout=90)
        assert proc.returncode == 0, (key, err.decode())
        assert err.decode().strip() == "", key


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_pyav_opens_and_decodes(served, transport: str) -> None:  # noqa: ANN001
    import av

    url = served.url("h264cam-002")
    with av.open(url, options={"rtsp_transport": transport}, timeout=15) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert (stream.codec_context.width, stream.codec_context.height) == (320, 180)
        assert stream.average_rate == 10 or stream.guessed_rate == 10
        pts, frames = [], 0
        for frame in container.decode(stream):
            assert frame.width == 320
            pts.append(frame.pts)
            frames += 1
            if frames == 35:  # 3.5 s: across a seam of the 2 s loop
                break
    assert frames == 35
    # ffmpeg's RTP demuxer leaves the very first frame without a timestamp.
    known = pts[1:]
    assert None not in known
    steps = [b - a for a, b in zip(known, known[1:], strict=False)]
    assert all(d > 0 and d % 9000 == 0 for d in steps), "10 fps on a 90 kHz clock, increasing"
    assert steps.count(9000) >= len(steps) - 2


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_opencv_videocapture_reads_frames(served, transport: str) -> None:  # noqa: ANN001
    import cv2

    os.environ["OPENCV_FFMPEG_CAPTURE_OPTIONS"] = f"rtsp_transport;{transport}"
    try:
        cap = cv2.VideoCapture(served.url("h265cam-001"), cv2.CAP_FFMPEG)
        assert cap.isOpened()
        assert cap.get(cv2.CAP_PROP_FRAME_WIDTH) == 320
        assert cap.get(cv2.CAP_PROP_FRAME_HEIGHT) == 180
        assert cap.get(cv2.CAP_PROP_FPS) == pytest.approx(10)
        for _ in range(30):
            ok, img = cap.read()
            assert ok and img.shape == (180, 320, 3)
        cap.release()
    finally:
        del os.environ["OPENCV_FFMPEG_CAPTURE_OPTIONS"]


def test_several_clients_share_one_source(served) -> None:  # noqa: ANN001
    import struct

    from simulator.streams.client import RtspClient

    url = served.url("h264cam-003")
    watchers = [RtspClient(served.port), RtspClient(served.port)]
    for w in watchers:
        w.start(url)
    procs = [ffmpeg_decode(url, t, 3) for t in ("tcp", "udp", "tcp", "udp")]
    seen = []
    for w in watchers:
        packets = [p for ch, p in w.packets(2.0) if ch == 0]
        seen.append({struct.unpack(">HII", p[2:12]) for p in packets})  # seq, timestamp, SSRC
        w.close()
    for proc in procs:
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0 and err.decode().strip() == ""
    # One source: the same packets (sequence number, timestamp, SSRC) reach every client.
    common = seen[0] & seen[1]
    assert len(common) >= 10
    assert len({ssrc for _, _, ssrc in seen[0] | seen[1]}) == 1


def test_frames_carry_camera_id_and_send_time(served) -> None:  # noqa: ANN001
    import time

    from simulator.streams.client import RtspClient
    from simulator.streams.rtp import parse_sei

    for path in ("h264cam-002/sub", "h265cam-001/main"):
        client = RtspClient(served.port)
        client.start(f"rtsp://127.0.0.1:{served.port}/{path}")
        got = [parse_sei(p) for ch, p in client.packets(2.5) if ch == 0]
        client.close()
        stamps = [x for x in got if x is not None]
        assert len(stamps) >= 5, path
        assert {cam for cam, _ in stamps} == {path.split("/")[0]}
        assert all(abs(t - time.time()) < 30 for _, t in stamps)
        assert [t for _, t in stamps] == sorted(t for _, t in stamps)


def test_api_reports_the_bitrate_a_client_receives(served) -> None:  # noqa: ANN001
    """/api/cameras gives each stream's target and achieved bitrate; the achieved one is within
    a tenth of the target and is what a client gets over one whole loop of the stream (within
    8 %: RTP payload headers and the SEI add bytes, JPEG file headers that RTP/JPEG does not
    carry take some away)."""
    from simulator.streams.client import RtspClient

    status, cameras = served.api("/api/cameras")
    assert status == 200
    by_path = {f"{c['id']}/{n}": s for c in cameras for n, s in c["streams"].items()}
    for path, *_, fps in STREAMS:
        entry = by_path[path]
        assert abs(entry["bitrate_mbps"] / entry["target_mbps"] - 1) <= 0.10, (path, entry)
        loop = len(served.server.streams[path].day.frames)  # frames of one whole loop
        client = RtspClient(served.port)
        client.start(f"rtsp://127.0.0.1:{served.port}/{path}")
        rtp = [p for ch, p in client.packets(loop / fps + 1.5) if ch == 0]
        client.close()
        ends = [i for i, p in enumerate(rtp) if p[1] & 0x80]
        assert len(ends) >= loop, path
        payload = sum(len(p) - 12 for p in rtp[: ends[loop - 1] + 1])
        received = payload * 8 / (loop / fps) / 1e6
        assert abs(received / entry["bitrate_mbps"] - 1) <= 0.08, (path, received, entry)
