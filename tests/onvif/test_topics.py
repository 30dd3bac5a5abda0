"""The event service's pure parts: which timeline events drive which topic, topic expressions,
XML Schema times, and a pull point's bounds and waits (no server)."""

from __future__ import annotations

import asyncio

import pytest

from simulator.onvif import topics, xstime
from simulator.onvif.pullpoint import Full, PullPoints, Unknown
from simulator.onvif.topics import CELL_MOTION, MOTION_ALARM, SIGNAL_LOSS, TAMPERING
from simulator.timeline.event import Event
from simulator.timeline.kinds import KINDS


def test_the_timeline_kinds_that_drive_topics() -> None:
    driven = {k: topics.changes(Event(0.0, k, camera="c")) for k in KINDS}
    assert driven.pop("camera_down") == [(SIGNAL_LOSS, True)]
    assert driven.pop("camera_up") == [(SIGNAL_LOSS, False)]
    assert driven.pop("stream_freeze") == [(TAMPERING, True)]
    assert all(v == [] for v in driven.values())  # nothing else, no motion invented


@pytest.mark.parametrize(("expression", "chosen"), [
    ("tns1:VideoSource/SignalLoss", {SIGNAL_LOSS}),
    ("tns1:VideoSource/SignalLoss|tns1:RuleEngine//.", {SIGNAL_LOSS, CELL_MOTION}),
    ("tns1:VideoSource//.", {SIGNAL_LOSS, TAMPERING, MOTION_ALARM}),
    ("other:VideoSource/*", {SIGNAL_LOSS, MOTION_ALARM}),  # prefixes not resolved
    (" tns1:VideoSource/GlobalSceneChange/ImagingService ", {TAMPERING}),
])  # fmt: skip
def test_topic_expressions(expression: str, chosen: set) -> None:
    assert topics.matching(expression) == chosen


@pytest.mark.parametrize("expression", ["", "tns1:VideoSource", "tns1:Device//.", "a|b"])
def test_topic_expressions_matching_nothing(expression: str) -> None:
    with pytest.raises(ValueError, match="no topic matches"):
        topics.matching(expression)


def test_the_topic_set_has_every_topic_once() -> None:
    xml = topics.topic_set()
    assert xml.count('wstop:topic="true"') == len(topics.TOPICS) == 4
    assert xml.count("<tns1:VideoSource>") == 1 and xml.count("<tns1:RuleEngine>") == 1


@pytest.mark.parametrize(("text", "seconds"), [
    ("PT60S", 60), ("PT1M", 60), ("PT1M30.5S", 90.5), ("P1DT1H", 90000), ("-PT5S", -5),
    ("PT0S", 0), (" PT2S ", 2),
])  # fmt: skip
def test_durations(text: str, seconds: float) -> None:
    assert xstime.duration(text) == seconds


@pytest.mark.parametrize("text", ["P1Y", "P1M", "PT", "P", "60", "PT1H2", "P" + "9" * 80 + "D"])
def test_durations_refused(text: str) -> None:
    with pytest.raises(ValueError):
        xstime.duration(text)


def test_absolute_or_relative() -> None:
    assert xstime.absolute_or_relative("PT10S", 100.0) == (110.0, 10.0)
    at, relative = xstime.absolute_or_relative("1970-01-01T00:02:00Z", 100.0)
    assert (at, relative) == (120.0, None)
    assert xstime.datetime_("1970-01-01T01:00:00+01:00") == 0.0
    assert xstime.iso(1.5) == "1970-01-01T00:00:01.500Z"
    with pytest.raises(ValueError):
        xstime.absolute_or_relative("tomorrow", 0.0)


def test_pull_points_bound_subscriptions_and_queues() -> None:
    points = PullPoints(lambda camera: {SIGNAL_LOSS: True}, max_per_camera=2, max_total=3,
                        max_queued=3)  # fmt: skip
    only = frozenset({SIGNAL_LOSS})
    a = points.create("c1", only, 100.0, None, 0.0)
    assert [(m.value, m.operation) for m in a.queue] == [(True, "Initialized")]
    points.create("c1", only, 100.0, None, 0.0)
    with pytest.raises(Full, match="c1 has 2"):
        points.create("c1", only, 100.0, None, 0.0)
    points.create("c2", only, 5.0, None, 0.0)
    with pytest.raises(Full, match="the serve has 3"):
        points.create("c3", only, 100.0, None, 0.0)
    for i in range(5):
        points.publish("c1", SIGNAL_LOSS, i % 2 == 0, 1.0)
    points.publish("c1", TAMPERING, True, 1.0)  # not subscribed: not queued
    assert (len(a.queue), a.dropped, points.counts["dropped"]) == (3, 3, 6)
    assert points.sweep(10.0) == 1  # c2's ended at 5
    points.create("c3", only, 100.0, None, 10.0)  # room again
    with pytest.raises(Unknown):
        points.get(a.id, "c2", 10.0)  # another camera's id


def test_a_pull_waits_for_a_message_and_a_second_pull_releases_the_first() -> None:
    async def run() -> tuple[list, list, list]:
        points = PullPoints(lambda camera: {})
        sub = points.create("c", frozenset({SIGNAL_LOSS}), 100.0, None, 0.0)
        await points.pull(sub, 0, 10)  # the Initialized one
        first = asyncio.create_task(points.pull(sub, 5, 10))
        await asyncio.sleep(0.05)
        second = asyncio.create_task(points.pull(sub, 5, 10))
        released = await asyncio.wait_for(first, 1)  # empty: a newer pull took over
        points.publish("c", SIGNAL_LOSS, True, 1.0)
        got = await asyncio.wait_for(second, 1)
        return released, [(m.value, m.operation) for m in got], await points.pull(sub, 0.05, 10)

    released, got, after = asyncio.run(run())
    assert (released, got, after) == ([], [(True, "Changed")], [])
