"""PLAY: the answer's RTP-Info names the first packet the client then gets, a keyframe's.

Clients (GStreamer, ffmpeg) take `seq` and `rtptime` as the base of the stream: a `seq` ahead
of the first packet makes GStreamer drop the keyframe, an `rtptime` behind it makes ffmpeg
start the stream hundreds of seconds late. Checked on servers started for the test, for the
first PLAY of a stream and for a PLAY after the stream went idle, over TCP and UDP.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import time

import pytest
from conftest import until

from simulator.streams.client import RtspClient, UdpPorts
from simulator.streams.rtp import keyframe_at

# (path, codec): every codec, each stream played by one test only
STREAMS = [
    ("h264cam-001/main", "h264"),
    ("h265cam-001/main", "h265"),
    ("mjpegcam-001/main", "mjpeg"),
]
TRANSPORTS = ["tcp", "udp"]


class Player:
    """One RTSP session over TCP interleaved or UDP, reading the RTP packets it gets."""

    def __init__(self, port: int, url: str, transport: str) -> None:
        self.url = url
        self.rtsp = RtspClient(port)
        self.udp = UdpPorts() if transport == "udp" else None
        spec = "RTP/AVP/TCP;unicast;interleaved=0-1" if self.udp is None else self.udp.transport
        self.session = self.rtsp.open(url, spec)

    def play(self) -> tuple[int, int]:
        """PLAY; returns the answer's RTP-Info (seq, rtptime)."""
        a = self.rtsp.request("PLAY", self.url, {"Session": self.session})
        assert a.status == 200, a
        return a.rtp_info

    def pause(self) -> None:
        assert self.rtsp.request("PAUSE", self.url, {"Session": self.session}).status == 200
        if self.udp is not None:
            self.udp.packets(0.3)  # what was on its way

    def packets(self, seconds: float) -> list[bytes]:
        if self.udp is not None:
            return self.udp.packets(seconds)
        return [p for ch, p in self.rtsp.packets(seconds) if ch == 0]

    def close(self) -> None:
        self.rtsp.request("TEARDOWN", self.url, {"Session": self.session})
        self.rtsp.close()
        if self.udp is not None:
            self.udp.close()


def _check_first_packet(info: tuple[int, int], packets: list[bytes], codec: str) -> None:
    assert packets, "no RTP packet within the read"
    first = packets[0]
    assert struct.unpack_from(">HI", first, 2) == info, "RTP-Info (seq, rtptime) vs first packet"
    assert keyframe_at(codec, first[12:], opens=True), (
        "the first packet after PLAY opens a keyframe"
    )


def _wait_idle(served, path: str) -> None:  # noqa: ANN001
    """Until the pacer has stopped the stream (no client playing it)."""
    stream = served.server.streams[path]
    stopped = until(lambda: not served.thread.call(lambda: stream.running), 10, every=0.05)
    assert stopped, "the stream kept running without clients"


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_first_play_of_a_fresh_server_names_its_first_packet(fresh, transport: str) -> None:  # noqa: ANN001
    time.sleep(1.0)  # the server has been up a while: its streams' clocks have moved on
    for path, codec in STREAMS:
        p = Player(fresh.port, f"rtsp://127.0.0.1:{fresh.port}/{path}", transport)
        info = p.play()
        _check_first_packet(info, p.packets(1.5), codec)
        p.close()


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_play_of_an_idle_stream_played_before_names_its_first_packet(fresh, transport: str) -> None:  # noqa: ANN001
    for path, codec in STREAMS:
        url = f"rtsp://127.0.0.1:{fresh.port}/{path}"
        p = Player(fresh.port, url, transport)
        _check_first_packet(p.play(), p.packets(1.2), codec)
        p.pause()  # the stream goes idle, then is played again in the same session
        _wait_idle(fresh, path)
        time.sleep(0.7)
        _check_first_packet(p.play(), p.packets(1.2), codec)
        p.close()  # and idle again, then played in a new session
        _wait_idle(fresh, path)
        time.sleep(0.7)
        q = Player(fresh.port, url, transport)
        _check_first_packet(q.play(), q.packets(1.2), codec)
        q.close()


def test_play_of_a_stream_others_watch_names_its_first_packet(fresh) -> None:  # noqa: ANN001
    path, codec = STREAMS[0]
    url = f"rtsp://127.0.0.1:{fresh.port}/{path}"
    watcher = Player(fresh.port, url, "tcp")
    watcher.play()
    for transport in TRANSPORTS:
        watcher.packets(0.35)  # a join at some other point of the GOP
        p = Player(fresh.port, url, transport)
        _check_first_packet(p.play(), p.packets(1.2), codec)
        p.close()
    watcher.close()


def test_ffprobe_sees_the_stream_start_at_zero(fresh) -> None:  # noqa: ANN001
    """ffmpeg puts a stream's start at (first packet's timestamp - RTP-Info rtptime); its RTP
    demuxer leaves the very first frame without a time stamp, so the start it reports is that of
    the first or second frame: 0 or 0.1 s at 10 fps (a stale rtptime makes it the uptime)."""
    time.sleep(1.5)
    for transport in TRANSPORTS:
        path = "h264cam-002/main" if transport == "tcp" else "h264cam-003/main"
        run = subprocess.run(
            ["ffprobe", "-v", "error", "-rtsp_transport", transport,
             "-show_entries", "stream=start_time", "-of", "json", fresh.url(*path.split("/"))],
            capture_output=True, timeout=60,
        )  # fmt: skip
        assert run.returncode == 0, run.stderr
        (stream,) = json.loads(run.stdout)["streams"]
        assert 0 <= float(stream["start_time"]) <= 0.1 + 1e-6, (transport, stream)


def test_play_during_a_bitrate_spike_or_a_freeze_names_its_first_packet(fresh) -> None:  # noqa: ANN001
    """A spike makes the frames before the next keyframe bigger (more packets to count); a
    freeze withholds frames until it ends, the first one sent is the keyframe after it."""
    path, codec = STREAMS[0]
    cam = path.split("/")[0]
    url = f"rtsp://127.0.0.1:{fresh.port}/{path}"
    watcher = Player(fresh.port, url, "tcp")
    watcher.play()
    watcher.packets(0.35)
    fresh.fault(cam, kind="bitrate_spike", factor=3.0, duration_s=30)
    for transport in TRANSPORTS:
        watcher.packets(0.35)  # mid-GOP
        p = Player(fresh.port, url, transport)
        _check_first_packet(p.play(), p.packets(1.2), codec)
        p.close()
    fresh.fault(cam, kind="bitrate_spike", factor=1.0, duration_s=0)
    for transport in TRANSPORTS:
        watcher.packets(0.35)
        fresh.fault(cam, kind="stream_freeze", duration_s=0.75)
        p = Player(fresh.port, url, transport)
        _check_first_packet(p.play(), p.packets(2.2), codec)
        p.close()
    watcher.close()


GST_DEPAY = {
    "h264": "rtph264depay ! h264parse ! avdec_h264",
    "h265": "rtph265depay ! h265parse ! avdec_h265",
}


def _gstreamer(url: str, codec: str, transport: str) -> subprocess.Popen:
    """GStreamer's RTSP client decoding a stream for 4 s, its jitter buffer's log and every
    warning on stderr, one line per decoded frame on stdout."""
    pipeline = (
        f"rtspsrc location={url} protocols={transport} latency=100 ! {GST_DEPAY[codec]} ! "
        "fakesink silent=false"
    )
    env = {**os.environ, "GST_DEBUG": "2,rtpjitterbuffer:5", "GST_DEBUG_NO_COLOR": "1"}
    return subprocess.Popen(
        ["timeout", "-s", "INT", "4", "gst-launch-1.0", "-e", "-v", *pipeline.split()],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
    )  # fmt: skip


@pytest.mark.skipif(not shutil.which("gst-launch-1.0"), reason="GStreamer is not installed")
def test_gstreamer_keeps_the_first_keyframe_and_finds_the_colours(fresh) -> None:  # noqa: ANN001
    """The client that found the defects: a stale RTP-Info made its jitter buffer drop the
    packets before `seqnum-base` (the keyframe), a range without a matrix made it warn."""
    time.sleep(1.0)
    cases = [
        (f"{cam}/main", codec, t)
        for cam, codec in (("h264cam-001", "h264"), ("h265cam-001", "h265"))
        for t in TRANSPORTS
    ]
    for attempt in ("first play", "play after idle"):
        procs = {case: _gstreamer(fresh.url(*case[0].split("/")), *case[1:]) for case in cases}
        for case, proc in procs.items():
            out, err = proc.communicate(timeout=60)
            log = err.decode(errors="replace")
            assert "before seqnum-base" not in log, (attempt, case)
            assert "colorimetry" not in log and "color matrix" not in log, (attempt, case)
            assert " ERROR " not in log and "ERROR:" not in out.decode(), (
                attempt,
                case,
                log[-2000:],
            )
            assert out.count(b"chain") >= 5, (attempt, case)  # decoded frames reached the sink
        for path in {case[0] for case in cases}:
            _wait_idle(fresh, path)
        time.sleep(0.5)
