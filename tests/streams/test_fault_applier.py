"""What timeline events do to served cameras, without the network: outages, links with and
without a backup, day and night, timed faults, and replay in accelerated wall-clock time."""

from __future__ import annotations

import asyncio

import pytest

from simulator.streams.applier import FaultApplier, FaultState, Replay, fault_event, replay
from simulator.timeline import Event, LinkId, ReplayClock


def applier() -> tuple[FaultApplier, list[str]]:
    cut: list[str] = []
    states = {c: FaultState() for c in ("a1", "a2", "b1")}
    district = {"a1": "a", "a2": "a", "b1": "b"}
    return FaultApplier(states, district, with_backup={"b"}, cut=cut.append), cut


def test_camera_and_link_outages() -> None:
    f, cut = applier()
    f.apply(Event(0, "camera_down", camera="a1"), now=0)
    assert f.states["a1"].offline == {"camera"} and cut == ["a1"]
    f.apply(Event(1, "link_down", link=LinkId("uplink", "a")), now=1)
    assert cut == ["a1", "a2"]  # a1 was already offline: cut once
    f.apply(Event(2, "camera_up", camera="a1"), now=2)
    assert f.states["a1"].offline == {"network"}
    f.apply(Event(3, "link_up", link=LinkId("uplink", "a")), now=3)
    assert not f.states["a1"].offline and not f.states["a2"].offline


def test_a_backup_link_carries_the_district() -> None:
    f, cut = applier()
    f.apply(Event(0, "link_down", link=LinkId("uplink", "b")), now=0)
    assert not f.states["b1"].offline and cut == []
    f.apply(Event(1, "link_down", link=LinkId("backup", "b")), now=1)
    assert f.states["b1"].offline and cut == ["b1"]
    f.apply(Event(2, "link_down", link=LinkId("core")), now=2)
    assert all(s.offline for s in f.states.values())


def test_timed_faults_and_daylight() -> None:
    f, _ = applier()
    f.apply(Event(0, "night"), now=0)
    assert all(s.night for s in f.states.values())
    f.apply(
        Event(0, "packet_loss", camera="a2", params={"percent": 5, "duration_s": 10}),
        now=100,
        time_scale=0.5,
    )
    s = f.states["a2"]
    assert s.loss_rate == pytest.approx(0.05) and s.loss_until == pytest.approx(105)
    assert s.active(104) == ["packet_loss"] and s.active(106) == []
    f.apply(Event(0, "reconnect_storm", district="a"), now=0)
    f.apply(Event(0, "server_down", server="rec-1"), now=0)
    assert f.counts["server_down"] == 1


def test_api_fault_requests_are_checked() -> None:
    assert fault_event("jitter", "a1", "a", {"kind": "jitter", "ms": 50}).params == {
        "ms": 50.0,
        "duration_s": 10.0,
    }
    assert fault_event("reconnect_storm", "a1", "a", {}).district == "a"
    # defaults come from the registry, the same as the scenario's
    assert fault_event("frame_drops", "a1", "a", {}).params["rate"] == 0.05
    for kind, body in [
        ("nope", {}),
        ("jitter", {"ms": "x"}),
        ("jitter", {"ms": True}),
        ("stream_freeze", {"rate": 1}),
        ("link_down", {}),  # not for one camera
        ("frame_drops", {"rate": 1.5}),
    ]:
        with pytest.raises(ValueError):
            fault_event(kind, "a1", "a", body)


def test_replay_follows_the_timeline_at_speed() -> None:
    f, cut = applier()
    events = [
        Event(3600, "camera_up", camera="a1"),
        Event(0, "camera_down", camera="a1"),
        Event(1800, "stream_freeze", camera="b1", params={"duration_s": 60}),
    ]

    async def run() -> float:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        await replay(Replay(events, ReplayClock(speed=36000)), f)  # an hour in 0.1 s
        return loop.time() - t0

    took = asyncio.run(run())
    assert took >= 0.09
    assert cut == ["a1"] and not f.states["a1"].offline
    assert f.counts == {"camera_down": 1, "stream_freeze": 1, "camera_up": 1}


def test_replay_can_start_late() -> None:
    f, _ = applier()
    events = [
        Event(0, "camera_down", camera="a1"),
        Event(10, "jitter", camera="a2", params={"duration_s": 100}),
    ]
    asyncio.run(replay(Replay(events, ReplayClock(speed=1, start_at=50)), f))
    assert f.states["a1"].offline and f.states["a2"].jitter_until > 0
