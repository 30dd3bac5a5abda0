"""The replay clock and resuming a timeline part-way."""

from __future__ import annotations

import pytest

from simulator.timeline import Event, ReplayClock, resume


def test_the_clock_maps_simulated_seconds_to_the_wall() -> None:
    c = ReplayClock(speed=60, start_at=3600).started(origin=100.0)
    assert c.wall_at(3600) == 100.0 and c.wall_at(7200) == pytest.approx(160.0)
    assert c.sim_at(130.0) == pytest.approx(5400.0) and c.wall_seconds(600) == 10.0
    with pytest.raises(ValueError):
        ReplayClock(speed=0)


def test_resume_keeps_what_is_still_in_effect() -> None:
    events = [
        Event(10, "jitter", camera="c", params={"ms": 5, "duration_s": 100}),  # until 110
        Event(20, "stream_freeze", camera="c", params={"duration_s": 5}),  # over at 25
        Event(0, "camera_down", camera="c"),
        Event(30, "live_view", camera="c", params={"operator": 0, "duration_s": 60}),
        Event(60, "camera_up", camera="c"),
    ]
    now, later = resume(events, 50)
    assert [(e.kind, e.params.get("duration_s")) for e in now] == [
        ("camera_down", None),
        ("jitter", 60),
    ]
    assert [e.kind for e in later] == ["camera_up"]
