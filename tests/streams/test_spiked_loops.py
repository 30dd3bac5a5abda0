"""Bitrate spikes: a loop keeps a bounded number of spiked copies, built off the event loop,
and none once no stream asks for them."""

from __future__ import annotations

import asyncio
import time

import pytest

from simulator.streams import loop as loops
from simulator.streams.client import RtspClient
from simulator.streams.encoder import Clip
from simulator.streams.loop import RELEASE_AFTER_S, SPIKED_KEPT, Loop


def _loop(codec: str = "h264") -> Loop:
    """A loop of 10 fake frames (an IDR slice, then P slices) of 1,000 bytes each."""
    key, other = (b"\x65", b"\x41") if codec == "h264" else (b"\x26\x01", b"\x02\x01")
    frames = [[(key if i == 0 else other) + bytes(1000)] for i in range(10)]
    clip = Clip(codec, 320, 180, 10.0, 10, frames, [i == 0 for i in range(10)])
    return Loop.of(clip)


def _size(frames: list) -> int:
    return sum(f.tcp.payload_bytes for f in frames)


def test_ten_factors_keep_at_most_a_few_spiked_copies() -> None:
    loop = _loop()
    for k in range(10):
        frames = loop.with_filler(2.0 + k)  # no event loop: built at once
        assert _size(frames) > (1 + k) * _size(loop.frames)
    assert len(loop.spiked) <= SPIKED_KEPT <= 3
    assert list(loop.spiked) == [10.0, 11.0]  # the most recent ones


def test_the_least_recently_used_copy_goes_first() -> None:
    loop = _loop("h265")
    loop.with_filler(2.0)
    loop.with_filler(3.0)
    loop.with_filler(2.0)  # used again: 3.0 is now the older one
    loop.with_filler(4.0)
    assert set(loop.spiked) == {2.0, 4.0}


def test_on_the_event_loop_the_copy_is_built_in_a_thread_and_the_loop_sent_meanwhile() -> None:
    loop = _loop()

    async def spike() -> tuple[list, list, float | None, list]:
        first = loop.with_filler(3.0)  # not built yet: the loop as it is, no stall
        building = loop.building
        others = [loop.with_filler(4.0 + k) for k in range(8)]  # one build at a time
        while loop.building is not None:
            await asyncio.sleep(0.01)
        for k in range(8):  # more factors than kept, each built in turn
            loop.with_filler(4.0 + k)
            while loop.building is not None:
                await asyncio.sleep(0.01)
        return first, loop.with_filler(11.0), building, others

    first, later, building, others = asyncio.run(spike())
    assert first is loop.frames and building == 3.0
    assert all(o is loop.frames for o in others)
    assert _size(later) > 9 * _size(loop.frames)
    assert len(loop.spiked) <= SPIKED_KEPT


def test_factors_of_one_or_less_and_jpeg_are_the_loop_itself() -> None:
    loop = _loop()
    assert loop.with_filler(1.0) is loop.frames and not loop.spiked
    jpeg = Loop(Clip("mjpeg", 320, 180, 10.0, 10, [], []), [])
    assert jpeg.with_filler(5.0) is jpeg.frames and not jpeg.spiked


def test_a_served_camera_spiked_with_ten_factors_keeps_a_few_copies(fresh) -> None:  # noqa: ANN001
    cam = "h264cam-002"
    stream = fresh.server.streams[f"{cam}/sub"]
    client = RtspClient(fresh.port)
    client.start(fresh.url(cam, "sub"))
    try:
        for k in range(10):
            factor = 2.0 + k
            fresh.fault(cam, kind="bitrate_spike", factor=factor, duration_s=60)
            deadline = time.monotonic() + 20
            while factor not in stream.day.spiked:  # built by the pacer's worker thread
                assert time.monotonic() < deadline, f"no spiked copy for {factor}"
                client.packets(0.1)
            assert len(stream.day.spiked) <= SPIKED_KEPT
    finally:
        fresh.fault(cam, kind="bitrate_spike", factor=1.0, duration_s=0)
        client.close()


def test_a_copy_no_stream_asked_for_lately_is_released() -> None:
    loop = _loop()
    loop.with_filler(2.0)
    asked = time.monotonic()
    loop.with_filler(3.0)
    loop.release_idle(asked + RELEASE_AFTER_S / 2)
    assert set(loop.spiked) == {2.0, 3.0}, "both asked for lately"
    loop.with_filler(3.0)  # still spiked with 3.0; 2.0 ended
    loop.release_idle(asked + RELEASE_AFTER_S)
    assert set(loop.spiked) == {3.0}
    loop.release_idle(time.monotonic() + RELEASE_AFTER_S)
    assert not loop.spiked and not loop.asked


def test_a_served_loop_holds_no_copy_once_its_spike_is_over(
    fresh,  # noqa: ANN001
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(loops, "RELEASE_AFTER_S", 0.5)
    cam = "h264cam-003"
    stream = fresh.server.streams[f"{cam}/main"]
    client = RtspClient(fresh.port)
    client.start(fresh.url(cam))
    try:
        fresh.fault(cam, kind="bitrate_spike", factor=3.0, duration_s=3)
        deadline = time.monotonic() + 20
        while 3.0 not in stream.loop.spiked:
            assert time.monotonic() < deadline, "no spiked copy"
            client.packets(0.1)
        held = stream.loop
        deadline = time.monotonic() + 10
        while held.spiked:  # the spike ends 3 s after it began, then 0.5 s without a use
            assert time.monotonic() < deadline, f"copies held after the spike: {list(held.spiked)}"
            client.packets(0.1)
        assert not stream.day.spiked and not stream.night.spiked
        assert len(client.packets(0.5)) > 0, "the stream goes on unspiked"
    finally:
        client.close()
