"""Every answer of the device, media and event services (and the event service's fault
details) is valid against the official ONVIF schemas (the WSDLs, onvif.xsd and the OASIS
WS-Notification schemas that onvif-zeep-async ships), checked strictly with lxml.

zeep and ZoneMinder's SOAP::WSDL read the answers leniently; this test is the strict one:
element order, required elements, types and enumerations.
"""

from __future__ import annotations

import copy
import http.client
from pathlib import Path

import onvif
import pytest
from lxml import etree

from tests.onvif.conftest import PASSWORD, USER, Onvif
from tests.onvif.test_events import address, envelope, subscribe
from tests.onvif.test_hostile import ENV, post, soap, token

WSDL = Path(onvif.__file__).parent / "wsdl"
XS = "http://www.w3.org/2001/XMLSchema"

UNICAST = (
    "<tt:Stream>RTP-Unicast</tt:Stream><tt:Transport><tt:Protocol>RTSP</tt:Protocol></tt:Transport>"
)
OPERATIONS = [
    "<tds:GetSystemDateAndTime/>",
    "<tds:GetCapabilities><tds:Category>All</tds:Category></tds:GetCapabilities>",
    "<tds:GetCapabilities><tds:Category>Media</tds:Category></tds:GetCapabilities>",
    "<tds:GetCapabilities><tds:Category>Events</tds:Category></tds:GetCapabilities>",
    "<tds:GetServices><tds:IncludeCapability>true</tds:IncludeCapability></tds:GetServices>",
    "<tds:GetServices><tds:IncludeCapability>false</tds:IncludeCapability></tds:GetServices>",
    "<tds:GetServiceCapabilities/>",
    "<tds:GetDeviceInformation/>",
    "<tds:GetScopes/>",
    "<tds:GetHostname/>",
    "<tds:GetNetworkInterfaces/>",
    "<tds:GetUsers/>",
    "<trt:GetProfiles/>",
    "<trt:GetProfile><trt:ProfileToken>main</trt:ProfileToken></trt:GetProfile>",
    f"<trt:GetStreamUri><trt:StreamSetup>{UNICAST}</trt:StreamSetup>"
    "<trt:ProfileToken>main</trt:ProfileToken></trt:GetStreamUri>",
    "<trt:GetSnapshotUri><trt:ProfileToken>main</trt:ProfileToken></trt:GetSnapshotUri>",
    "<trt:GetVideoSources/>",
    "<trt:GetVideoSourceConfigurations/>",
    "<trt:GetVideoSourceConfiguration><trt:ConfigurationToken>video_source_config"
    "</trt:ConfigurationToken></trt:GetVideoSourceConfiguration>",
    "<trt:GetVideoEncoderConfigurations/>",
    "<trt:GetVideoEncoderConfigurationOptions/>",
    "<trt:GetServiceCapabilities/>",
]


def _schema(wsdl: str) -> etree.XMLSchema:
    """The schema embedded in a WSDL, with the WSDL's namespace prefixes (its QNames use
    them) and its imports resolved beside it."""
    doc = etree.parse(str(WSDL / wsdl))
    inner = doc.find(f".//{{{XS}}}schema")
    nsmap = {k: v for k, v in {**doc.getroot().nsmap, **inner.nsmap}.items() if k}
    root = etree.Element(inner.tag, attrib=dict(inner.attrib), nsmap=nsmap)
    root.extend(copy.deepcopy(c) for c in inner)
    return etree.XMLSchema(etree.fromstring(etree.tostring(root), base_url=str(WSDL / wsdl)))


@pytest.fixture(scope="module")
def schemas() -> dict[str, etree.XMLSchema]:
    return {
        "http://www.onvif.org/ver10/device/wsdl": _schema("devicemgmt.wsdl"),
        "http://www.onvif.org/ver10/media/wsdl": _schema("media.wsdl"),
        "http://www.onvif.org/ver10/events/wsdl": _schema("events.wsdl"),
        "http://docs.oasis-open.org/wsn/b-2": etree.XMLSchema(etree.parse(str(WSDL / "b-2.xsd"))),
        "http://docs.oasis-open.org/wsrf/r-2": etree.XMLSchema(etree.parse(str(WSDL / "r-2.xsd"))),
    }


def answer(port: int, body: bytes, path: str = "/onvif/device_service") -> etree._Element:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", path, body)
        r = conn.getresponse()
        raw = r.read()
    finally:
        conn.close()
    assert r.status == 200, raw[:400]
    return etree.fromstring(raw).find(f"{{{ENV}}}Body")[0]


@pytest.mark.parametrize("camera", ["h264cam-001", "h265cam-001", "mjpegcam-001"])
def test_every_answer_is_valid(onvif: Onvif, schemas: dict, camera: str) -> None:
    port = onvif.port(camera)
    for op in OPERATIONS:
        el = answer(port, soap(op))
        schema = schemas[etree.QName(el).namespace]
        assert schema.validate(el), f"{op[:40]}: {schema.error_log.last_error}"


def test_users_and_encoder_configuration_are_valid(onvif_guarded: Onvif, schemas: dict) -> None:
    port = onvif_guarded.port("h264cam-002")
    for op in ("<tds:GetUsers/>", "<trt:GetVideoEncoderConfiguration><trt:ConfigurationToken>"
               "sub</trt:ConfigurationToken></trt:GetVideoEncoderConfiguration>"):  # fmt: skip
        el = answer(port, soap(op, token(USER, PASSWORD)))
        schema = schemas[etree.QName(el).namespace]
        assert schema.validate(el), f"{op[:40]}: {schema.error_log.last_error}"


def _valid(schemas: dict, el: etree._Element, what: str) -> None:
    schema = schemas[etree.QName(el).namespace]
    assert schema.validate(el), f"{what}: {schema.error_log.last_error}"


def _descriptions() -> etree.XMLSchema:
    """A schema with one element of type tt:MessageDescription: the topic set's leaves are
    skipped by a lax wildcard, so their descriptions are checked on their own."""
    doc = (
        f'<xs:schema xmlns:xs="{XS}" xmlns:tt="http://www.onvif.org/ver10/schema" '
        'targetNamespace="urn:camsim:test" elementFormDefault="qualified">'
        '<xs:import namespace="http://www.onvif.org/ver10/schema" schemaLocation="onvif.xsd"/>'
        '<xs:element name="D" type="tt:MessageDescription"/></xs:schema>'
    )
    return etree.XMLSchema(etree.fromstring(doc, base_url=str(WSDL / "x.xsd")))


def test_event_answers_are_valid(onvif: Onvif, schemas: dict) -> None:
    port = onvif.port("h265cam-001")
    events = "/onvif/event_service"
    for op in ("<tev:GetServiceCapabilities/>", "<tev:GetEventProperties/>",
               "<tev:CreatePullPointSubscription><tev:InitialTerminationTime>PT10S"
               "</tev:InitialTerminationTime></tev:CreatePullPointSubscription>"):  # fmt: skip
        el = answer(port, envelope(op), events)
        _valid(schemas, el, op[:40])
    described = _descriptions()
    props = answer(port, envelope("<tev:GetEventProperties/>"), events)
    leaves = props.findall(".//{*}MessageDescription")  # the topic set's
    assert len(leaves) == 4
    for d in leaves:
        wrapped = etree.Element("{urn:camsim:test}D", dict(d.attrib), nsmap=d.nsmap)
        wrapped.extend(copy.deepcopy(c) for c in d)
        assert described.validate(wrapped), described.error_log.last_error
    path = address(subscribe(port)[1])
    pulls = "<tev:Timeout>PT1S</tev:Timeout><tev:MessageLimit>10</tev:MessageLimit>"
    for op in (f"<tev:PullMessages>{pulls}</tev:PullMessages>",  # the Initialized messages
               "<tev:SetSynchronizationPoint/>",
               "<wsnt:Renew><wsnt:TerminationTime>PT20S</wsnt:TerminationTime></wsnt:Renew>",
               "<wsnt:Unsubscribe/>"):  # fmt: skip
        el = answer(port, envelope(op), path)
        _valid(schemas, el, op[:40])
    assert len(el.getparent().getparent().findall(".//{*}NotificationMessage")) == 0
    first = answer(port, envelope(f"<tev:PullMessages>{pulls}</tev:PullMessages>"),
                   address(subscribe(port)[1]))  # fmt: skip
    assert len(first.findall("{*}NotificationMessage")) == 4
    _valid(schemas, first, "PullMessages with messages")


def test_event_fault_details_are_valid(onvif: Onvif, schemas: dict) -> None:
    """The WS-BaseNotification faults' details, and PullMessagesFaultResponse."""
    port = onvif.port("h265cam-001")
    path = address(subscribe(port)[1])
    bad_topic = "<wsnt:TopicExpression Dialect='urn:x'>tns1:X</wsnt:TopicExpression>"
    cases = [
        (envelope("<tev:PullMessages><tev:Timeout>PT2M</tev:Timeout><tev:MessageLimit>1"
                  "</tev:MessageLimit></tev:PullMessages>"), path),
        (envelope("<wsnt:Renew><wsnt:TerminationTime>PT0S</wsnt:TerminationTime></wsnt:Renew>"),
         path),
        (envelope("<wsnt:Unsubscribe/>"), "/onvif/subscription/nobody"),
        (envelope(f"<tev:CreatePullPointSubscription><tev:Filter>{bad_topic}</tev:Filter>"
                  "</tev:CreatePullPointSubscription>"), "/onvif/event_service"),
    ]  # fmt: skip
    for body, where in cases:
        status, raw = post(port, body, path=where)
        assert status == 400, raw[:300]
        detail = etree.fromstring(raw).find(f".//{{{ENV}}}Detail")
        assert detail is not None and len(detail) == 1, raw[:300]
        _valid(schemas, detail[0], etree.QName(detail[0]).localname)


def test_the_media_service_offers_as_many_profiles_as_the_camera_has(onvif: Onvif) -> None:
    counts = {}
    for camera in ("h264cam-001", "h265cam-001", "mjpegcam-001"):
        port = onvif.port(camera)
        profiles = answer(port, soap("<trt:GetProfiles/>"))
        caps = answer(port, soap("<trt:GetServiceCapabilities/>"))
        most = caps.find(".//{http://www.onvif.org/ver10/media/wsdl}ProfileCapabilities")
        counts[camera] = (int(most.get("MaximumNumberOfProfiles")), len(profiles))
    assert all(most == n for most, n in counts.values()), counts
    assert {n for _, n in counts.values()} == {1, 2}, counts  # cameras of one and two streams
