"""Hostile and wrong SOAP gets the right SOAP fault, never a traceback, and the device goes on.

Each request is sent raw (http.client), as a broken or malicious client would; the answer is
read as XML: its HTTP status, its fault code and ONVIF subcodes.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import http.client
import os
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest

from tests.onvif.conftest import PASSWORD, USER, Onvif

ENV = "http://www.w3.org/2003/05/soap-envelope"
TDS = "http://www.onvif.org/ver10/device/wsdl"
TRT = "http://www.onvif.org/ver10/media/wsdl"


def soap(body: str, header: str = "") -> bytes:
    return (
        f'<?xml version="1.0"?><s:Envelope xmlns:s="{ENV}" xmlns:tds="{TDS}" '
        f'xmlns:trt="{TRT}" xmlns:tt="http://www.onvif.org/ver10/schema">'
        f"<s:Header>{header}</s:Header><s:Body>{body}</s:Body></s:Envelope>"
    ).encode()


def token(user: str, password: str, nonce: bytes | None = None, skew_s: float = 0) -> str:
    """A WS-Security UsernameToken with PasswordDigest, computed here from its definition."""
    nonce = nonce or os.urandom(16)
    created = (datetime.now(UTC) + timedelta(seconds=skew_s)).strftime("%Y-%m-%dT%H:%M:%SZ")
    pw = base64.b64encode(hashlib.sha1(nonce + created.encode() + password.encode()).digest())
    wsse = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
    wsu = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
    kind = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
    return (
        f'<wsse:Security xmlns:wsse="{wsse}" xmlns:wsu="{wsu}"><wsse:UsernameToken>'
        f"<wsse:Username>{user}</wsse:Username>"
        f'<wsse:Password Type="{kind}#PasswordDigest">{pw.decode()}</wsse:Password>'
        f"<wsse:Nonce>{base64.b64encode(nonce).decode()}</wsse:Nonce>"
        f"<wsu:Created>{created}</wsu:Created></wsse:UsernameToken></wsse:Security>"
    )


def post(
    port: int, body: bytes, headers: dict | None = None, path: str = "/onvif/device_service"
) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", path, body,
                     {"Content-Type": "application/soap+xml", **(headers or {})})  # fmt: skip
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def fault(answer: bytes) -> tuple[str, list[str]]:
    """(code, subcodes) of a SOAP 1.2 fault."""
    root = ET.fromstring(answer)
    code = root.find(f".//{{{ENV}}}Fault/{{{ENV}}}Code")
    assert code is not None, answer[:300]
    subs, sub = [], code.find(f"{{{ENV}}}Subcode")
    while sub is not None:
        subs.append(sub.findtext(f"{{{ENV}}}Value"))
        sub = sub.find(f"{{{ENV}}}Subcode")
    return code.findtext(f"{{{ENV}}}Value"), subs


LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10 if i else "&lol;" * 10}">' for i in range(9))
    + f']><s:Envelope xmlns:s="{ENV}"><s:Body><tds:GetHostname xmlns:tds="{TDS}">&lol8;'
    "</tds:GetHostname></s:Body></s:Envelope>"
)
EXTERNAL = (
    '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    f'<s:Envelope xmlns:s="{ENV}"><s:Body><tds:GetHostname xmlns:tds="{TDS}">&xxe;'
    "</tds:GetHostname></s:Body></s:Envelope>"
)
DEEP = soap("<a>" * 200 + "</a>" * 200)


@pytest.mark.parametrize(("body", "status", "code", "subcodes"), [
    (b"<not xml", 400, "env:Sender", ["ter:WellFormed"]),
    (LAUGHS.encode(), 400, "env:Sender", ["ter:WellFormed"]),
    (EXTERNAL.encode(), 400, "env:Sender", ["ter:WellFormed"]),
    (DEEP, 400, "env:Sender", ["ter:InvalidArgs"]),
    (b"<x>" + b"<y/>" * 3000 + b"</x>", 400, "env:Sender", ["ter:InvalidArgs"]),
    (b'<e:Envelope xmlns:e="urn:other"><e:Body/></e:Envelope>', 500, "env:VersionMismatch",
     ["ter:WellFormed"]),
    (soap(""), 400, "env:Sender", ["ter:WellFormed"]),
    (soap("<tds:SystemReboot/>"), 500, "env:Receiver", ["ter:ActionNotSupported"]),
    (soap('<x:Pull xmlns:x="urn:nobody"/>'), 500, "env:Receiver", ["ter:ActionNotSupported"]),
    (soap("<tds:GetServices><tds:IncludeCapability>maybe</tds:IncludeCapability>"
          "</tds:GetServices>"), 400, "env:Sender", ["ter:InvalidArgVal"]),
    (soap("<trt:GetStreamUri><trt:StreamSetup><tt:Stream>RTP-Multicast</tt:Stream>"
          "<tt:Transport><tt:Protocol>UDP</tt:Protocol></tt:Transport></trt:StreamSetup>"
          "<trt:ProfileToken>main</trt:ProfileToken></trt:GetStreamUri>"), 400, "env:Sender",
     ["ter:InvalidArgVal", "ter:InvalidStreamSetup"]),
    (soap("<trt:GetSnapshotUri><trt:ProfileToken>third</trt:ProfileToken>"
          "</trt:GetSnapshotUri>"), 400, "env:Sender", ["ter:InvalidArgVal", "ter:NoProfile"]),
])  # fmt: skip
def test_bad_requests_get_their_fault(
    onvif: Onvif, body: bytes, status: int, code: str, subcodes: list[str]
) -> None:
    got_status, answer = post(onvif.port("h264cam-001"), body)
    assert (got_status, fault(answer)) == (status, (code, subcodes)), answer[:400]
    assert b"Traceback" not in answer and b"lollol" not in answer and b"root:" not in answer


def test_a_huge_body_is_refused_before_it_is_read(onvif: Onvif) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", onvif.port("h264cam-001"), timeout=10)
    conn.putrequest("POST", "/onvif/device_service")
    conn.putheader("Content-Length", str(1 << 30))  # a GiB announced, a little sent
    conn.endheaders(b"<" * 1000)
    r = conn.getresponse()
    assert r.status == 413 and fault(r.read()) == ("env:Sender", ["ter:InvalidArgs"])
    conn.close()


def test_the_device_still_answers_after_the_abuse(onvif: Onvif) -> None:
    status, answer = post(onvif.port("h264cam-001"), soap("<tds:GetDeviceInformation/>"))
    assert status == 200 and b"<tds:SerialNumber>h264cam-001<" in answer


GUARDED = soap("<tds:GetDeviceInformation/>")


def test_credentials_refused_with_not_authorized(onvif_guarded: Onvif) -> None:
    port = onvif_guarded.port("h264cam-002")
    nonce = os.urandom(16)
    good = token(USER, PASSWORD, nonce)
    status, answer = post(port, soap("<tds:GetDeviceInformation/>", good))
    assert status == 200 and b"h264cam-002" in answer
    cases = {
        "none": "",
        "wrong password": token(USER, "guess"),
        "wrong user": token("root", PASSWORD),
        "replayed nonce": good,
        "clock skew": token(USER, PASSWORD, skew_s=-3600),
        "future": token(USER, PASSWORD, skew_s=3600),
    }
    for what, header in cases.items():
        status, answer = post(port, soap("<tds:GetDeviceInformation/>", header))
        assert (status, fault(answer)) == (400, ("env:Sender", ["ter:NotAuthorized"])), what
    # what a client asks before it authenticates (ONVIF's PRE_AUTH class) needs no token
    status, answer = post(port, soap("<tds:GetSystemDateAndTime/>"))
    assert status == 200 and b"<tt:UTCDateTime>" in answer


def test_snapshot_needs_http_credentials(onvif_guarded: Onvif) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", onvif_guarded.port("h264cam-001"), timeout=10)
    conn.request("GET", "/onvif/snapshot/main.jpg")
    r = conn.getresponse()
    assert r.status == 401 and r.getheader("WWW-Authenticate", "").startswith("Digest ")
    conn.close()


def test_connections_are_bounded(onvif: Onvif) -> None:
    """Idle connections past the bound are closed at once; the others time out; the device
    answers again once they are gone."""
    import socket

    port = onvif.port("h264cam-002")
    services = onvif.devices.services
    before = onvif.call(lambda: services.refused)
    old = services.max_connections
    services.max_connections = onvif.call(lambda: services.open) + 3
    socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(5)]
    try:
        for s in socks[3:]:
            s.settimeout(5)
            with contextlib.suppress(ConnectionResetError):  # closed, or reset, at once
                assert s.recv(10) == b""
        assert onvif.call(lambda: services.refused) - before == 2
    finally:
        services.max_connections = old
        for s in socks:
            s.close()
    status, answer = post(port, soap("<tds:GetHostname/>"))
    assert status == 200 and b"h264cam-002" in answer


def test_a_clock_jump_moves_the_camera_s_clock(onvif_guarded: Onvif) -> None:
    """clock_jump (timeline or control API) moves what GetSystemDateAndTime says, and tokens
    are then checked against that clock: a VMS that does not follow it fails to log in."""
    from simulator.timeline.event import Event

    port = onvif_guarded.port("h265cam-001")

    def hour() -> int:
        _, answer = post(port, soap("<tds:GetSystemDateAndTime/>"))
        utc = ET.fromstring(answer).find(".//{http://www.onvif.org/ver10/schema}UTCDateTime")
        return int(utc.findtext(".//{http://www.onvif.org/ver10/schema}Hour"))

    before = hour()
    jump = Event(0.0, "clock_jump", "h265cam-001", params={"offset_s": 7200.0})
    onvif_guarded.call(onvif_guarded.cameras.inject, jump)
    try:
        assert hour() == (before + 2) % 24 or hour() == (before + 3) % 24
        status, answer = post(port, soap("<tds:GetScopes/>", token(USER, PASSWORD)))
        assert (status, fault(answer)[1]) == (400, ["ter:NotAuthorized"])
        status, answer = post(port, soap("<tds:GetUsers/>", token(USER, PASSWORD, skew_s=7200)))
        assert status == 200, answer[:300]  # a client that followed the camera's clock
    finally:
        back = Event(0.0, "clock_jump", "h265cam-001", params={"offset_s": -7200.0})
        onvif_guarded.call(onvif_guarded.cameras.inject, back)


def test_soap_1_1_is_answered_in_soap_1_1(onvif: Onvif) -> None:
    env11 = "http://schemas.xmlsoap.org/soap/envelope/"

    def post11(op: str) -> tuple[int, ET.Element]:
        body = f'<e:Envelope xmlns:e="{env11}"><e:Body>{op}</e:Body></e:Envelope>'.encode()
        status, answer = post(onvif.port("mjpegcam-001"), body, {"Content-Type": "text/xml"})
        return status, ET.fromstring(answer)

    status, root = post11(f'<GetHostname xmlns="{TDS}"/>')
    assert status == 200 and root.tag == f"{{{env11}}}Envelope"
    status, root = post11(f'<SystemReboot xmlns="{TDS}"/>')
    assert status == 500
    assert root.findtext(f".//{{{env11}}}Fault/faultcode") == "env:Server"
    assert root.findtext(f".//{{{env11}}}Fault/faultstring").startswith("ter:ActionNotSupported")
