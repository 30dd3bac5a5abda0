"""Home Assistant's ONVIF library (onvif-zeep-async) describes and snapshots the cameras.

The library parses every answer against the ONVIF WSDLs it ships (zeep), so what it reads
here is also a schema check; ffprobe plays the stream URI it gets back, OpenCV decodes the
snapshot.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from typing import Any

import cv2
import numpy as np
import pytest
from onvif import ONVIFCamera
from onvif.exceptions import ONVIFAuthError, ONVIFError
from zeep.exceptions import Fault

from tests.onvif.conftest import PASSWORD, USER, Onvif

UNICAST = {"Stream": "RTP-Unicast", "Transport": {"Protocol": "RTSP"}}


async def _describe(port: int, user: str = "anyone", password: str = "x") -> dict[str, Any]:
    """What a VMS reads when it adds the camera, in the order Home Assistant asks it."""
    cam = ONVIFCamera("127.0.0.1", port, user, password)
    try:
        await cam.update_xaddrs()
        device = await cam.create_devicemgmt_service()
        info = await device.GetDeviceInformation()
        scopes = [s.ScopeItem for s in await device.GetScopes()]
        caps = await cam.get_capabilities()
        media = await cam.create_media_service()
        out: dict[str, Any] = {"info": info, "scopes": scopes, "caps": caps, "profiles": {}}
        out["sources"] = await media.GetVideoSources()
        out["hostname"] = (await device.GetHostname()).Name
        out["interfaces"] = await device.GetNetworkInterfaces()
        out["users"] = await device.GetUsers()
        out["options"] = await media.GetVideoEncoderConfigurationOptions({})
        for p in await media.GetProfiles():
            uri = await media.GetStreamUri({"StreamSetup": UNICAST, "ProfileToken": p.token})
            out["profiles"][p.token] = {
                "profile": p,
                "uri": uri.Uri,
                "snapshot_uri": await cam.get_snapshot_uri(p.token),
                "snapshot": await cam.get_snapshot(p.token),
            }
        return out
    finally:
        await cam.close()


def _ffprobe(url: str) -> dict[str, Any]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-rtsp_transport", "tcp", "-show_streams", "-of", "json", url],
        capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    return json.loads(out.stdout)["streams"][0]


@pytest.fixture(scope="module")
def described(onvif: Onvif) -> dict[str, dict[str, Any]]:
    """Every tiny camera as the library describes it (one pass, shared by the tests)."""

    async def all_cameras() -> dict[str, dict[str, Any]]:
        devs = onvif.devices.devices
        got = await asyncio.gather(*(_describe(d.port) for d in devs))
        return {d.id: g for d, g in zip(devs, got, strict=True)}

    return asyncio.run(all_cameras())


def test_device_information_is_the_scenario_s(described: dict, onvif: Onvif) -> None:
    cam = described["h264cam-002"]
    assert (cam["info"].Manufacturer, cam["info"].Model, cam["info"].SerialNumber) == (
        "camsim", "h264cam", "h264cam-002",
    )  # fmt: skip
    assert "onvif://www.onvif.org/location/north" in cam["scopes"]
    assert "onvif://www.onvif.org/name/h264cam-002" in cam["scopes"]
    assert "onvif://www.onvif.org/hardware/h264cam" in cam["scopes"]
    assert cam["hostname"] == "h264cam-002"
    assert cam["interfaces"][0].IPv4.Config.Manual[0].Address == "127.0.0.1"
    assert cam["users"] == []  # no credentials configured: none listed
    port = onvif.port("h264cam-002")
    assert cam["caps"]["Media"]["XAddr"] == f"http://127.0.0.1:{port}/onvif/media_service"


def test_profiles_say_the_scenario_s_streams(described: dict) -> None:
    cam = described["h264cam-001"]
    assert sorted(cam["profiles"]) == ["main", "sub"]
    main = cam["profiles"]["main"]["profile"].VideoEncoderConfiguration
    sub = cam["profiles"]["sub"]["profile"].VideoEncoderConfiguration
    assert (main.Encoding, main.Resolution.Width, main.Resolution.Height) == ("H264", 320, 180)
    assert (main.RateControl.FrameRateLimit, main.RateControl.BitrateLimit) == (10, 300)
    assert main.H264.GovLength == 10
    assert (sub.Resolution.Width, sub.Resolution.Height, sub.RateControl.FrameRateLimit) == (
        160, 96, 5,
    )  # fmt: skip
    assert sub.RateControl.BitrateLimit == 50
    assert cam["sources"][0].Resolution.Width == 320
    assert [r.Width for r in cam["options"].H264.ResolutionsAvailable] == [320, 160]
    mjpeg = described["mjpegcam-001"]["profiles"]["main"]["profile"]
    assert mjpeg.VideoEncoderConfiguration.Encoding == "JPEG"
    # Media ver10 has no H.265: the profile is there, without an encoder configuration
    h265 = described["h265cam-001"]["profiles"]["main"]["profile"]
    assert h265.VideoEncoderConfiguration is None


@pytest.mark.parametrize(("camera", "stream", "codec", "width"), [
    ("h264cam-003", "main", "h264", 320), ("h264cam-003", "sub", "h264", 160),
    ("h265cam-001", "main", "hevc", 320),
])  # fmt: skip
def test_stream_uri_plays(
    described: dict, onvif: Onvif, camera: str, stream: str, codec: str, width: int
) -> None:
    uri = described[camera]["profiles"][stream]["uri"]
    assert uri == onvif.cameras.url(camera, stream)
    got = _ffprobe(uri)
    assert (got["codec_name"], got["width"]) == (codec, width)


@pytest.mark.parametrize(("camera", "stream", "shape"), [
    ("h264cam-001", "main", (180, 320, 3)), ("h264cam-001", "sub", (96, 160, 3)),
    ("h265cam-001", "main", (180, 320, 3)), ("mjpegcam-001", "main", (184, 320, 3)),
])  # fmt: skip
def test_snapshot_is_the_stream_s_picture(
    described: dict, camera: str, stream: str, shape: tuple
) -> None:
    jpeg = described[camera]["profiles"][stream]["snapshot"]
    assert jpeg is not None and jpeg[:2] == b"\xff\xd8"
    img = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert img is not None and img.shape == shape
    assert img.std() > 10  # a street scene, not a blank picture


def test_snapshots_are_decoded_once_and_kept(onvif: Onvif) -> None:
    """A VMS polling snapshots costs one decode per keyframe, not one per request."""
    port = onvif.port("h264cam-002")

    async def poll() -> list[bytes | None]:
        cam = ONVIFCamera("127.0.0.1", port, "anyone", "x")
        try:
            await cam.update_xaddrs()
            return [await cam.get_snapshot("main") for _ in range(10)]
        finally:
            await cam.close()

    before = onvif.call(lambda: onvif.devices.services.snapshots.decoded)
    pictures = asyncio.run(poll())
    decoded = onvif.call(lambda: onvif.devices.services.snapshots.decoded) - before
    assert all(p and p[:2] == b"\xff\xd8" for p in pictures)
    # the tiny loop has two keyframes (2 s at GOP 10, 10 fps): at most those are decoded
    assert 0 <= decoded <= 2


def test_credentials_are_asked_and_checked(onvif_guarded: Onvif) -> None:
    port = onvif_guarded.port("h264cam-001")
    cam = asyncio.run(_describe(port, USER, PASSWORD))
    assert cam["info"].SerialNumber == "h264cam-001"
    assert [u.Username for u in cam["users"]] == [USER]
    jpeg = cam["profiles"]["main"]["snapshot"]  # over HTTP Digest
    assert cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR).shape == (180, 320, 3)
    with pytest.raises((ONVIFAuthError, ONVIFError, Fault)) as err:
        asyncio.run(_describe(port, USER, "wrong"))
    assert "NotAuthorized" in repr(err.value) or "not authorized" in str(err.value).lower()


def test_an_offline_camera_has_no_snapshot(onvif: Onvif) -> None:
    """camera_down (the timeline's or the control API's) takes the picture away: 503."""
    import urllib.error
    import urllib.request

    from simulator.timeline.event import Event

    dev = onvif.devices.device("h264cam-003")
    assert dev is not None
    down = Event(0.0, "camera_down", "h264cam-003")
    onvif.call(onvif.cameras.inject, down)
    try:
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(dev.snapshot_url("main"), timeout=10)
        assert err.value.code == 503 and b"offline" in err.value.read()
    finally:
        onvif.call(onvif.cameras.inject, Event(0.0, "camera_up", "h264cam-003"))
    with urllib.request.urlopen(dev.snapshot_url("main"), timeout=10) as r:
        assert r.read()[:2] == b"\xff\xd8"
