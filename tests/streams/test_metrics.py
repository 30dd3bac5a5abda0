"""/metrics tells frames withheld by faults from frames the server skips on its own.

A ledger of faults built on `camsim_stream_fault_drops_total` must not blame faults for the
frames before the first keyframe of a stream a client (re)starts, nor for the frames the
server skips when it falls behind.
"""

from __future__ import annotations

import time

from conftest import until

from simulator.streams.client import RtspClient


def _counters(served, camera: str, stream: str = "main") -> dict[str, float]:  # noqa: ANN001
    """This stream's `camsim_stream_*_total` counters, read from /metrics over HTTP."""
    status, text = served.api("/metrics")
    assert status == 200
    label = f'{{camera="{camera}",stream="{stream}"}}'
    out = {}
    for line in text.splitlines():
        name, _, value = line.partition(label + " ")
        if value and name.startswith("camsim_stream_") and name.endswith("_total"):
            out[name.removeprefix("camsim_stream_").removesuffix("_total")] = float(value)
    return out


def test_a_client_joining_mid_gop_is_no_fault(fresh) -> None:  # noqa: ANN001
    cam = "h264cam-002"
    stream = fresh.server.streams[f"{cam}/main"]
    url = fresh.url(cam)
    for _ in range(6):  # until a PLAY lands mid-GOP (9 in 10 do: GOP of 10 frames)
        c = RtspClient(fresh.port)
        c.start(url)
        c.packets(1.2)  # past the first keyframe
        c.close()
        if _counters(fresh, cam).get("keyframe_wait_skips", 0) > 0:
            break
        idle = until(lambda: not fresh.thread.call(lambda: stream.running), 10, every=0.05)
        assert idle, "the stream stops without clients, to start again"
        time.sleep(0.23)
    k = _counters(fresh, cam)
    assert k["fault_drops"] == 0, k
    assert k["keyframe_wait_skips"] > 0, "no PLAY landed mid-GOP"
    assert k["late_skips"] == 0, k
    assert fresh.server.states[cam].active(0.0) == []  # no fault was ever active


def test_frames_skipped_after_falling_behind_are_the_servers_own(fresh) -> None:  # noqa: ANN001
    cam = "h264cam-003"
    c = RtspClient(fresh.port)
    c.start(fresh.url(cam))
    c.packets(1.2)
    fresh.thread.call(time.sleep, 0.9)  # the server stops for 0.9 s: frames fall far behind
    c.packets(1.5)
    c.close()
    k = _counters(fresh, cam)
    assert k["fault_drops"] == 0, k
    assert k["late_skips"] >= 5, k  # 0.9 s at 10 fps, less the 0.5 s it may be late
