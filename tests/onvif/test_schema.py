"""Every answer of the device and media services is valid against the official ONVIF
schemas (the WSDLs and onvif.xsd that onvif-zeep-async ships), checked strictly with lxml.

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
from tests.onvif.test_hostile import ENV, soap, token

WSDL = Path(onvif.__file__).parent / "wsdl"
XS = "http://www.w3.org/2001/XMLSchema"

UNICAST = (
    "<tt:Stream>RTP-Unicast</tt:Stream><tt:Transport><tt:Protocol>RTSP</tt:Protocol></tt:Transport>"
)
OPERATIONS = [
    "<tds:GetSystemDateAndTime/>",
    "<tds:GetCapabilities><tds:Category>All</tds:Category></tds:GetCapabilities>",
    "<tds:GetCapabilities><tds:Category>Media</tds:Category></tds:GetCapabilities>",
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
    }


def answer(port: int, body: bytes) -> etree._Element:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", "/onvif/device_service", body)
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
