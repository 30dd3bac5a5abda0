"""Faults reach the wire: a real client sees a camera go offline and come back, freezes and
frame drops leave decodable streams, bitrate spikes add bytes, clock jumps move RTCP time."""

from __future__ import annotations

import struct
import subprocess
import time

from test_real_clients import ffmpeg_decode

from simulator.streams.client import RtspClient, frames_in
from simulator.streams.rtp import NTP_EPOCH_OFFSET


def test_client_sees_camera_go_offline_and_come_back(served) -> None:  # noqa: ANN001
    import av

    cam = "h264cam-002"
    url = served.url(cam)
    container = av.open(url, options={"rtsp_transport": "tcp"}, timeout=10)
    frames = container.decode(video=0)
    for _ in range(5):
        next(frames)
    served.fault(cam, kind="camera_down")
    ended = False
    try:
        for _ in range(200):  # the connection is closed: decoding stops with an error or EOF
            next(frames)
    except (StopIteration, av.error.FFmpegError, OSError):
        ended = True
    container.close()
    assert ended
    status, cams = served.api("/api/cameras")
    assert next(c for c in cams if c["id"] == cam)["state"] == "offline"
    probe = subprocess.run(["ffprobe", "-v", "error", url], capture_output=True, timeout=30)
    assert probe.returncode != 0 and b"503" in probe.stderr

    served.fault(cam, kind="camera_up")
    proc = ffmpeg_decode(url, "tcp", 3)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0 and err.decode().strip() == ""


def test_every_request_to_a_camera_that_is_down_gets_503(fresh) -> None:  # noqa: ANN001
    """What the README promises: a VMS sees one consistent answer on every path of the camera,
    the keep-alive and OPTIONS it sends first included, until the camera is back."""
    cam = "h264cam-001"
    url = fresh.url(cam)
    watcher = RtspClient(fresh.port)
    session = watcher.open(url, "RTP/AVP/TCP;unicast;interleaved=0-1")
    fresh.fault(cam, kind="camera_down")
    assert watcher.closed_by_server()
    watcher.close()
    c = RtspClient(fresh.port)
    tcp = {"Transport": "RTP/AVP/TCP;unicast;interleaved=0-1"}
    asks = [
        ("OPTIONS", url, {}),
        ("OPTIONS", fresh.url(cam, "sub"), {}),
        ("DESCRIBE", url, {}),
        ("SETUP", f"{url}/trackID=0", tcp),
        ("PLAY", url, {"Session": session}),
        ("GET_PARAMETER", url, {}),
        ("SET_PARAMETER", url, {"Session": session}),
        ("TEARDOWN", url, {"Session": session}),
    ]
    assert [(m, c.request(m, u, h).status) for m, u, h in asks] == [(m, 503) for m, _, _ in asks]
    assert c.request("OPTIONS", fresh.url("h264cam-002")).status == 200  # other cameras
    assert c.request("OPTIONS", "*").status == 200
    fresh.fault(cam, kind="camera_up")
    assert [c.request(m, url).status for m in ("OPTIONS", "DESCRIBE", "GET_PARAMETER")] == [200] * 3
    c.close()


def test_freeze_and_frame_drops_keep_the_stream_decodable(served) -> None:  # noqa: ANN001
    cam = "h264cam-003"
    before = served.server.streams[f"{cam}/main"].counters.fault_drops
    proc = ffmpeg_decode(served.url(cam), "udp", 5)
    time.sleep(1.5)
    served.fault(cam, kind="stream_freeze", duration_s=1.0)
    served.fault(cam, kind="frame_drops", rate=0.3, duration_s=2.0)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0 and err.decode().strip() == ""  # no decoder errors
    assert served.server.streams[f"{cam}/main"].counters.fault_drops > before


def test_decoding_is_clean_after_packet_loss_clears(served) -> None:  # noqa: ANN001
    cam = "h264cam-001"
    client = RtspClient(served.port)
    client.start(served.url(cam))
    served.fault(cam, kind="packet_loss", percent=50, duration_s=2.5)
    lossy = client.packets(2.5)
    seqs = [struct.unpack(">H", p[2:4])[0] for ch, p in lossy if ch == 0]
    gaps = sum(1 for a, b in zip(seqs, seqs[1:], strict=False) if (b - a) & 0xFFFF != 1)
    assert gaps > 0, "packet loss must show as sequence gaps"
    client.close()
    time.sleep(0.2)
    proc = ffmpeg_decode(served.url(cam), "tcp", 3)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0 and err.decode().strip() == ""


def test_bitrate_spike_adds_filler_that_decoders_accept(served) -> None:  # noqa: ANN001
    cam = "h264cam-002"
    client = RtspClient(served.port)
    client.start(served.url(cam, "sub"))
    normal = client.packets(2.0)
    served.fault(cam, kind="bitrate_spike", factor=3.0, duration_s=60)
    proc = ffmpeg_decode(served.url(cam, "sub"), "udp", 3)
    spiked = client.packets(2.0)
    _, err = proc.communicate(timeout=60)
    served.fault(cam, kind="bitrate_spike", factor=1.0, duration_s=0)
    client.close()
    assert proc.returncode == 0 and err.decode().strip() == ""
    per_frame = [
        sum(len(p) for ch, p in pk if ch == 0) / max(1, frames_in(pk)) for pk in (normal, spiked)
    ]
    assert per_frame[1] > 2 * per_frame[0]


def test_clock_jump_moves_rtcp_wall_clock(served) -> None:  # noqa: ANN001
    cam = "h264cam-003"
    served.fault(cam, kind="clock_jump", offset_s=7200)
    client = RtspClient(served.port)
    client.start(served.url(cam, "sub"))
    reports = []
    deadline = time.monotonic() + 20
    while not reports and time.monotonic() < deadline:
        reports = [p for ch, p in client.packets(1.0) if ch == 1 and p[1] == 200]
    client.close()
    served.fault(cam, kind="clock_jump", offset_s=-7200)
    assert reports, "an RTCP sender report within 20 s"
    ntp_seconds = struct.unpack(">I", reports[0][8:12])[0]
    assert abs(ntp_seconds - NTP_EPOCH_OFFSET - time.time() - 7200) < 60


def test_reconnect_storm_closes_every_session_of_the_district(served) -> None:  # noqa: ANN001
    a, b = RtspClient(served.port), RtspClient(served.port)
    a.start(served.url("h264cam-001", "sub"))
    b.start(served.url("h264cam-002", "sub"))
    other = RtspClient(served.port)
    other.start(served.url("h265cam-001"))  # district south: not in the storm
    served.fault("h264cam-003", kind="reconnect_storm")  # district north
    assert a.closed_by_server() and b.closed_by_server()
    assert frames_in(other.packets(1.5)) > 0
    for c in (a, b, other):
        c.close()


def test_api_rejects_bad_fault_requests(served) -> None:  # noqa: ANN001
    assert served.api("/api/cameras/nope/faults", {"kind": "stream_freeze"})[0] == 404
    assert served.api("/api/cameras/h264cam-001/faults", {"kind": "meteor"})[0] == 400
    assert served.api("/api/cameras/h264cam-001/faults", {"kind": "jitter", "ms": -1})[0] == 400
    assert served.api("/api/cameras/h264cam-001/faults", {"kind": "jitter", "x": 1})[0] == 400
    status, text = served.api("/metrics")
    assert status == 200 and "camsim_frame_send_lateness_seconds_bucket" in text
    assert 'camsim_stream_send_lateness_max_seconds{camera="h264cam-001",stream="main"}' in text
    assert 'camsim_stream_frames_sent_total{camera="all",stream="all"}' in text


def test_api_answers_malformed_http_and_closes(served) -> None:  # noqa: ANN001
    import socket

    auth = b"Authorization: Bearer " + served.token.encode() + b"\r\n"
    cases = [
        (b"NONSENSE\r\n\r\n", b"400"),
        (b"GET /" + b"a" * 9000, b"431"),
        (
            b"POST /api/cameras/x/faults HTTP/1.1\r\n" + auth + b"Content-Length: 999999\r\n\r\n",
            b"413",
        ),
        (b"POST /api/cameras/x/faults HTTP/1.1\r\nContent-Length: 999999\r\n\r\n", b"401"),
        (b"GET /api/cameras/h264cam-001/faults HTTP/1.1\r\n\r\n", b"405"),
    ]
    for payload, status in cases:
        with socket.create_connection(("127.0.0.1", served.api_port), timeout=10) as s:
            s.sendall(payload)
            answer = b""
            while chunk := s.recv(65536):
                answer += chunk
        assert answer.split(b" ")[1] == status, answer[:80]
