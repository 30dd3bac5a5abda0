"""The RTSP viewer user: watches one camera after another (round-robin from its own start),
each for `--camsim-view-s`, and reports what it saw as request_type RTSP.

Names: DESCRIBE, SETUP, PLAY (their response times), first_frame and first_keyframe (from
PLAY), latency (the camera-to-viewer latency from camsim's SEI, the worst of each viewing's
second), view (the whole viewing; bytes = RTP payload; a failure names missing packets).
"""

from __future__ import annotations

import itertools
import time
from typing import Any

import gevent
from locust import User, task

from loadtests.bounded_stats import failure
from loadtests.users.operator import plan_of
from loadtests.users.rtsp import RtspError, RtspViewer, ViewStats, rtsp_urls

RTSP = "RTSP"


class RtspViewerUser(User):
    """A viewer of the wall: RTSP over TCP, every frame counted."""

    weight = 1

    def on_start(self) -> None:
        env = self.environment
        s = plan_of(env).settings
        self.view_s = s.view_s
        urls = getattr(env, "camsim_rtsp_urls", None)
        if urls is None:
            urls = rtsp_urls(s.rtsp) if s.rtsp else []
            env.camsim_rtsp_urls = urls
            env.camsim_viewer_counter = itertools.count(int(env.runner.worker_index or 0) * 7919)
        self.urls = None
        if not urls:
            self._fire("view", 0.0, 0, failure("no RTSP URLs: pass --camsim-rtsp"))
            return
        first = next(env.camsim_viewer_counter)
        self.urls = itertools.cycle(urls[first % len(urls) :] + urls[: first % len(urls)])

    def _fire(self, name: str, seconds: float, length: int = 0, exc: Any = None) -> None:
        self.environment.events.request.fire(
            request_type=RTSP, name=name, response_time=seconds * 1000, response_length=length,
            exception=exc, context={},
        )  # fmt: skip

    @task
    def view(self) -> None:
        if self.urls is None:  # said once in on_start; an idle viewer does not spin
            gevent.sleep(1.0)
            return
        url = next(self.urls)
        metrics = getattr(self.environment, "camsim_metrics", None)
        t0 = time.perf_counter()
        playing = metrics.rtsp_viewers.labels(metrics.process) if metrics is not None else None
        try:
            if playing is not None:
                playing.inc()
            st = RtspViewer(url).watch(self.view_s)
        except (OSError, RtspError) as exc:
            self._fire("view", time.perf_counter() - t0, 0, failure(exc))
            gevent.sleep(1.0)  # a refused viewer does not spin
            return
        finally:
            if playing is not None:
                playing.dec()
        self._report(st, metrics)

    def _report(self, st: ViewStats, metrics: Any) -> None:
        for name, s in (("DESCRIBE", st.describe_s), ("SETUP", st.setup_s), ("PLAY", st.play_s)):
            self._fire(name, s)
        if st.first_frame_s is not None:
            self._fire("first_frame", st.first_frame_s)
        if st.first_keyframe_s is not None:
            self._fire("first_keyframe", st.first_keyframe_s)
        per_second = max(1, round(st.seconds))
        step = max(1, len(st.latencies) // per_second)
        for i in range(0, len(st.latencies), step):
            self._fire("latency", max(st.latencies[i : i + step]))
        gap = failure(f"{st.seq_gaps} RTP packets missing") if st.seq_gaps else None
        nothing = failure("no frame received") if not st.frames else None
        self._fire("view", st.seconds, st.payload_bytes, gap or nothing)
        if metrics is not None:
            metrics.rtsp_frames.labels(metrics.process).inc(st.frames)
            metrics.rtsp_bytes.labels(metrics.process).inc(st.payload_bytes)
            metrics.rtsp_seq_gaps.labels(metrics.process).inc(st.seq_gaps)
            for lat in st.latencies:
                metrics.rtsp_latency.labels(metrics.process).observe(lat)
