"""The event service with Home Assistant's library (onvif-zeep-async's PullPoint manager):
the timeline's faults, injected through serve's control API, arrive as ONVIF property
events exactly once each; Renew and Unsubscribe work; an unknown or expired subscription is
a ResourceUnknownFault; topic filters select; subscriptions and their queues are bounded;
a waiting pull never holds up the loop."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import socket
import time
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from onvif import ONVIFCamera
from zeep.exceptions import Fault

from tests.onvif.conftest import PASSWORD, USER, Onvif
from tests.onvif.test_hostile import ENV, fault, post, token

TEV = "http://www.onvif.org/ver10/events/wsdl"
WSNT = "http://docs.oasis-open.org/wsn/b-2"
CONCRETE_SET = "http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet"
LOSS = "tns1:VideoSource/SignalLoss"
TAMPER = "tns1:VideoSource/GlobalSceneChange/ImagingService"
TOPICS = sorted([LOSS, TAMPER, "tns1:VideoSource/MotionAlarm",
                 "tns1:RuleEngine/CellMotionDetector/Motion"])  # fmt: skip


def inject(o: Any, camera: str, kind: str, **params: Any) -> None:
    """POST /api/cameras/<camera>/faults with serve's bearer token (`o.api_port`, `o.token`)."""
    req = urllib.request.Request(
        f"http://127.0.0.1:{o.api_port}/api/cameras/{camera}/faults",
        data=json.dumps({"kind": kind, **params}).encode(),
        headers={"Authorization": f"Bearer {o.token}"},
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.status == 202


def seen(answer: Any) -> list[tuple[str, str, str]]:
    """(topic, PropertyOperation, value) of each message of a PullMessagesResponse."""
    out = []
    for n in answer.NotificationMessage:
        m = n.Message._value_1
        out.append((n.Topic._value_1, m.PropertyOperation, m.Data.SimpleItem[0].Value))
    return out


async def pull(pp: Any, seconds: float, limit: int = 100) -> list[tuple[str, str, str]]:
    return seen(await pp.PullMessages({"MessageLimit": limit,
                                       "Timeout": dt.timedelta(seconds=seconds)}))  # fmt: skip


def with_pullpoint(
    port: int, body: Callable[[ONVIFCamera, Any, Any], Awaitable[Any]],
    user: str = "anyone", password: str = "x",
) -> Any:  # fmt: skip
    """Run `body(camera, its PullPoint manager, the pull service)` on a fresh subscription."""

    async def run() -> Any:
        cam = ONVIFCamera("127.0.0.1", port, user, password)
        try:
            await cam.update_xaddrs()
            manager = await cam.create_pullpoint_manager(dt.timedelta(seconds=60), lambda: None)
            return await body(cam, manager, manager.get_service())
        finally:
            await cam.close()

    return asyncio.run(run())


def test_camera_down_arrives_once_as_signal_loss(onvif: Onvif) -> None:
    async def body(cam: ONVIFCamera, manager: Any, pp: Any) -> dict[str, Any]:
        first = await pp.PullMessages({"MessageLimit": 100, "Timeout": dt.timedelta(seconds=1)})
        await asyncio.to_thread(inject, onvif, "h264cam-002", "camera_down")
        await asyncio.to_thread(inject, onvif, "h264cam-002", "camera_down")  # no change
        down = await pull(pp, 5)
        await asyncio.to_thread(inject, onvif, "h264cam-002", "camera_up")
        up = await pull(pp, 5)
        rest = await pull(pp, 0.5)
        await manager.shutdown()
        return {"first": first, "down": down, "up": up, "rest": rest}

    got = with_pullpoint(onvif.port("h264cam-002"), body)
    assert sorted(seen(got["first"])) == [(t, "Initialized", "false") for t in TOPICS]
    loss = next(n for n in got["first"].NotificationMessage if n.Topic._value_1 == LOSS)
    assert loss.Message._value_1.Source.SimpleItem[0].Value == "video_source"  # media's token
    assert got["down"] == [(LOSS, "Changed", "true")]
    assert got["up"] == [(LOSS, "Changed", "false")]
    assert got["rest"] == []


def test_a_freeze_is_tampering_for_its_duration(onvif: Onvif) -> None:
    async def body(cam: ONVIFCamera, manager: Any, pp: Any) -> tuple[list, list, float]:
        await pull(pp, 1)  # the Initialized ones
        await asyncio.to_thread(inject, onvif, "h264cam-001", "stream_freeze", duration_s=0.6)
        t0 = time.monotonic()
        on = await pull(pp, 5)
        off = await pull(pp, 5)
        await manager.shutdown()
        return on, off, time.monotonic() - t0

    on, off, took = with_pullpoint(onvif.port("h264cam-001"), body)
    assert on == [(TAMPER, "Changed", "true")] and off == [(TAMPER, "Changed", "false")]
    assert 0.4 < took < 3


def test_renew_and_unsubscribe(onvif: Onvif) -> None:
    async def body(cam: ONVIFCamera, manager: Any, pp: Any) -> dict[str, Any]:
        sub = await cam.create_subscription_service("PullPointSubscription")
        relative = await sub.Renew("PT30S")
        later = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=120)).isoformat()
        absolute = await sub.Renew(later.replace("+00:00", "Z"))
        await sub.Unsubscribe()
        with pytest.raises(Fault) as pulled:
            await pull(pp, 0.2)
        with pytest.raises(Fault) as renewed:
            await sub.Renew("PT30S")
        return {"relative": relative, "absolute": absolute, "faults": (pulled, renewed)}

    got = with_pullpoint(onvif.port("mjpegcam-001"), body)
    r = got["relative"]
    assert abs((r.TerminationTime - r.CurrentTime).total_seconds() - 30) < 1
    a = got["absolute"]
    assert abs((a.TerminationTime - a.CurrentTime).total_seconds() - 120) < 2
    for err in got["faults"]:
        assert [q.localname for q in err.value.subcodes] == ["ResourceUnknownFault"]
        assert (
            err.value.detail[0].tag == "{http://docs.oasis-open.org/wsrf/r-2}ResourceUnknownFault"
        )


def envelope(body: str, header: str = "") -> bytes:
    return (
        f'<?xml version="1.0"?><s:Envelope xmlns:s="{ENV}" xmlns:tev="{TEV}" xmlns:wsnt="{WSNT}">'
        f"<s:Header>{header}</s:Header><s:Body>{body}</s:Body></s:Envelope>"
    ).encode()


def subscribe(port: int, inner: str = "", header: str = "") -> tuple[int, bytes]:
    op = f"<tev:CreatePullPointSubscription>{inner}</tev:CreatePullPointSubscription>"
    return post(port, envelope(op, header), path="/onvif/event_service")


def address(answer: bytes) -> str:
    """The path of the subscription a CreatePullPointSubscriptionResponse gives."""
    addr = ET.fromstring(answer).find(f".//{{{TEV}}}SubscriptionReference/*")
    assert addr is not None, answer[:300]
    return "/" + (addr.text or "").split("/", 3)[3]


def raw_pull(port: int, path: str, timeout: str = "PT0S", limit: str = "100") -> tuple[int, bytes]:
    op = f"<tev:Timeout>{timeout}</tev:Timeout><tev:MessageLimit>{limit}</tev:MessageLimit>"
    return post(port, envelope(f"<tev:PullMessages>{op}</tev:PullMessages>"), path=path)


def test_unknown_and_expired_subscriptions_are_resource_unknown(onvif: Onvif) -> None:
    port = onvif.port("h265cam-001")
    status, answer = raw_pull(port, "/onvif/subscription/0123456789abcdef")
    assert status == 400 and fault(answer) == ("env:Sender", ["wsrf-r:ResourceUnknownFault"])
    status, answer = subscribe(
        port, "<tev:InitialTerminationTime>PT0.5S</tev:InitialTerminationTime>"
    )
    assert status == 200
    path = address(answer)
    time.sleep(0.8)
    status, answer = raw_pull(port, path)
    assert status == 400 and fault(answer)[1] == ["wsrf-r:ResourceUnknownFault"]
    assert b"expired" in answer
    points = onvif.devices.feed.points  # type: ignore[union-attr]
    assert path.rsplit("/", 1)[1] not in onvif.call(lambda: set(points.subs))


def test_topic_filters_select(onvif: Onvif) -> None:
    port = onvif.port("h264cam-003")
    expr = f'<wsnt:TopicExpression Dialect="{CONCRETE_SET}">{{}}</wsnt:TopicExpression>'
    both = expr.format("tns1:VideoSource/SignalLoss|tns1:VideoSource/GlobalSceneChange//.")
    status, answer = subscribe(port, f"<tev:Filter>{both}</tev:Filter>")
    assert status == 200
    status, pulled = raw_pull(port, address(answer))
    topics = sorted(t.text or "" for t in ET.fromstring(pulled).iter(f"{{{WSNT}}}Topic"))
    assert topics == [TAMPER, LOSS]
    status, answer = post(port, envelope("<wsnt:Unsubscribe/>"), path=address(answer))
    assert status == 200
    for inner, subcode in [
        (expr.format("tns1:Nothing/Here"), "wsnt:TopicNotSupportedFault"),
        ('<wsnt:TopicExpression Dialect="urn:x">tns1:VideoSource//.</wsnt:TopicExpression>',
         "wsnt:TopicExpressionDialectUnknownFault"),
    ]:  # fmt: skip
        status, answer = subscribe(port, f"<tev:Filter>{inner}</tev:Filter>")
        assert status == 400 and fault(answer)[1] == [subcode]


def test_pull_arguments_are_checked(onvif: Onvif) -> None:
    port = onvif.port("h264cam-003")
    status, answer = subscribe(port)
    path = address(answer)
    status, answer = raw_pull(port, path, timeout="PT61S")
    assert status == 400 and b"<tev:MaxTimeout>PT60S</tev:MaxTimeout>" in answer
    for timeout, limit in [("P1Y", "1"), ("PT1S", "many"), ("PT1S", "0"), ("x" * 100, "1")]:
        status, answer = raw_pull(port, path, timeout, limit)
        assert status == 400 and fault(answer)[1] == ["ter:InvalidArgVal"], (timeout, limit)
    assert post(port, envelope("<wsnt:Unsubscribe/>"), path=path)[0] == 200


def test_subscriptions_and_queues_are_bounded(onvif: Onvif) -> None:
    """A ninth subscription on a camera, or one past the serve's total, is a SOAP fault; a
    subscription keeps its newest 100 messages and counts the ones it dropped."""
    points = onvif.devices.feed.points  # type: ignore[union-attr]
    cam = "h264cam-003"
    port = onvif.port(cam)
    room = points.max_per_camera - onvif.call(lambda: len(points.by_camera.get(cam, ())))
    paths = [address(subscribe(port)[1]) for _ in range(room)]
    status, answer = subscribe(port)
    assert status == 500 and fault(answer) == (
        "env:Receiver",
        ["wsnt:SubscribeCreationFailedFault"],
    )
    before, most = onvif.call(lambda: (len(points.subs), points.max_total))
    onvif.call(setattr, points, "max_total", before)
    try:
        status, answer = subscribe(onvif.port("h264cam-001"))
        assert status == 500 and b"the serve has" in answer
    finally:
        onvif.call(setattr, points, "max_total", most)
    for _ in range(60):  # 120 changes and 4 Initialized: 24 dropped
        inject(onvif, cam, "camera_down")
        inject(onvif, cam, "camera_up")
    sub = onvif.call(lambda: points.subs[paths[0].rsplit("/", 1)[1]])
    assert (len(sub.queue), sub.dropped) == (100, 24)
    status, pulled = raw_pull(port, paths[0], limit="1000")
    assert status == 200, pulled[:500]
    values = [i.get("Value") for i in ET.fromstring(pulled).iterfind(".//{*}SimpleItem")
              if i.get("Name") == "State"]  # fmt: skip
    assert len(values) == 100 and values[-2:] == ["true", "false"]  # the newest kept
    for path in paths:
        assert post(port, envelope("<wsnt:Unsubscribe/>"), path=path)[0] == 200
    assert onvif.call(lambda: len(points.subs)) == before - len(paths)


def test_a_waiting_pull_does_not_hold_the_loop(onvif: Onvif) -> None:
    port = onvif.port("mjpegcam-001")
    path = address(subscribe(port)[1])
    raw_pull(port, path)  # the Initialized ones

    async def both() -> tuple[float, float, bytes]:
        t0 = time.monotonic()
        waiting = asyncio.create_task(asyncio.to_thread(raw_pull, port, path, "PT1.5S"))
        await asyncio.sleep(0.2)
        status, _ = await asyncio.to_thread(post, port, envelope("<tev:GetEventProperties/>"))
        assert status == 200
        other = time.monotonic() - t0
        status, answer = await waiting
        return other, time.monotonic() - t0, answer

    other, pulled, answer = asyncio.run(both())
    assert post(port, envelope("<wsnt:Unsubscribe/>"), path=path)[0] == 200
    assert other < 1.0 and 1.4 < pulled < 3 and b"NotificationMessage" not in answer


def test_credentials_are_asked(onvif_guarded: Onvif) -> None:
    port = onvif_guarded.port("h264cam-002")
    status, answer = subscribe(port)
    assert status == 400 and fault(answer)[1] == ["ter:NotAuthorized"]

    async def body(cam: ONVIFCamera, manager: Any, pp: Any) -> list:
        got = await pull(pp, 1)
        await manager.shutdown()
        return got

    got = with_pullpoint(port, body, USER, PASSWORD)
    assert sorted(t for t, _, _ in got) == TOPICS
    status, answer = subscribe(port, header=token(USER, PASSWORD))
    assert status == 200
    assert raw_pull(port, address(answer))[0] == 400  # the pull needs a token too


def test_a_client_gone_mid_pull_leaves_nothing_waiting(onvif: Onvif) -> None:
    port = onvif.port("h264cam-001")
    path = address(subscribe(port)[1])
    raw_pull(port, path)  # the Initialized ones
    points, services = onvif.devices.feed.points, onvif.devices.services  # type: ignore[union-attr]
    sub = onvif.call(lambda: points.subs[path.rsplit("/", 1)[1]])
    before = onvif.call(lambda: services.open)
    body = envelope("<tev:PullMessages><tev:Timeout>PT30S</tev:Timeout><tev:MessageLimit>9"
                    "</tev:MessageLimit></tev:PullMessages>")  # fmt: skip
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n".encode()
                  + body)  # fmt: skip
        deadline = time.monotonic() + 5
        while onvif.call(lambda: sub.waiter) is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert onvif.call(lambda: sub.waiter) is not None  # the pull waits
    deadline = time.monotonic() + 5
    while onvif.call(lambda: (sub.waiter, services.open)) != (None, before):
        assert time.monotonic() < deadline, "the pull still waits for a client that went"
        time.sleep(0.02)
    assert post(port, envelope("<wsnt:Unsubscribe/>"), path=path)[0] == 200
