"""Clock jumps add up to a bounded total: replayed ones are clamped, injected ones refused, so
the SEI send time and the RTCP wall clock keep their framing after any number of jumps."""

from __future__ import annotations

import asyncio
import time

from simulator.streams.applier import (
    MAX_CLOCK_OFFSET_S,
    FaultApplier,
    FaultState,
    Replay,
    fault_event,
    replay,
)
from simulator.streams.rtp import SEI_FIELD, SEI_UUID, parse_sei, sei_data
from simulator.timeline import Event, ReplayClock


def applier() -> FaultApplier:
    return FaultApplier({"a1": FaultState()}, {"a1": "a"}, set(), cut=lambda _: None)


def jump(offset_s: float) -> Event:
    return Event(0.0, "clock_jump", camera="a1", params={"offset_s": offset_s})


def test_a_thousand_replayed_jumps_stay_within_the_bound_and_the_sei_keeps_its_size() -> None:
    for sign in (-1, 1):
        f = applier()
        asyncio.run(replay(Replay([jump(sign * 1e9)] * 1000, ReplayClock(speed=1e6)), f))
        offset = f.states["a1"].clock_offset_s
        assert offset == sign * MAX_CLOCK_OFFSET_S and f.counts == {"clock_jump": 1000}
        field = sei_data("a1", time.time() + offset)
        assert len(field) == SEI_FIELD
        cam, sent = parse_sei(SEI_UUID + field)  # type: ignore[misc]
        assert cam == "a1" and sent > 0


def test_an_injected_jump_beyond_the_bound_is_refused_and_changes_nothing() -> None:
    f = applier()
    ok = fault_event("clock_jump", "a1", "a", {"offset_s": 9e8})
    assert f.refuse(ok) is None
    f.apply(ok, now=0)
    over = fault_event("clock_jump", "a1", "a", {"offset_s": 2e8})
    reason = f.refuse(over)
    assert reason is not None and "9e+08" in reason and "1e+09" in reason
    back = fault_event("clock_jump", "a1", "a", {"offset_s": -1e9})
    assert f.refuse(back) is None  # towards zero and beyond, within the bound
    assert f.states["a1"].clock_offset_s == 9e8
