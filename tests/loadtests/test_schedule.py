"""The schedule: actions only, sharded so that the shards together hold each action once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from loadtests.schedule import actions_of, dues, end_of, shard, shard_of
from loadtests.users.actions import AnchoredClock
from simulator.timeline.clock import ReplayClock
from simulator.timeline.event import Event


def action(t: float, operator: int, camera: str = "cam-001", kind: str = "live_view") -> Event:
    return Event(t, kind, camera, params={"operator": operator, "duration_s": 10.0})


EVENTS = [action(float(i), op, f"cam-{i % 7:03d}") for i, op in
          enumerate([0, 1, 2, 3, -1, -1, 0, 2, -1, 1] * 5)]  # fmt: skip


@pytest.mark.parametrize("shards", [1, 2, 3, 5])
def test_the_shards_hold_each_action_exactly_once(shards: int) -> None:
    parts = [shard(EVENTS, i, shards) for i in range(shards)]
    assert sorted(e for p in parts for e in p) == sorted(EVENTS)
    assert sum(len(p) for p in parts) == len(EVENTS)


def test_an_operator_stays_on_one_shard_and_remote_viewers_go_by_camera() -> None:
    assert {shard_of(e, 3) for e in EVENTS if e.params["operator"] == 2} == {2}
    remote = [e for e in EVENTS if e.params["operator"] == -1]
    for a in remote:
        assert all(shard_of(a, 3) == shard_of(b, 3) for b in remote if b.camera == a.camera)
    with pytest.raises(ValueError, match="shard 2 of 2"):
        shard(EVENTS, 2, 2)


def test_only_actions_from_start_at_on_in_time_order() -> None:
    world = Event(5.0, "camera_down", "cam-001")
    got = actions_of([action(30.0, 0), world, action(10.0, 1), action(2.0, 0)], start_at=5.0)
    assert [e.t for e in got] == [10.0, 30.0]
    assert end_of(got) == 40.0


def test_dues_and_replay_times_follow_the_clock() -> None:
    clock = ReplayClock(speed=10.0, start_at=100.0).started(origin=50.0)
    (d,) = list(dues([action(150.0, 0)], clock))
    assert d.at == 55.0 and d.kind == "live_view"
    anchored = AnchoredClock(clock, unix_origin=1_000_000.0)
    assert anchored.wall(30.0) == 3.0
    # a recording from before the replay began is looked for from its start
    assert anchored.recorded_at(20.0) == datetime.fromtimestamp(1_000_000.0, UTC)
    assert anchored.recorded_at(200.0) == datetime.fromtimestamp(1_000_010.0, UTC)
