"""The PTZ service with Home Assistant's library (onvif-zeep-async) against a real serve's
cameras: two domes (PTZ) and a fixed camera (none). The head is seen MOVING on its way then
IDLE at its target, continuous moves stop, presets go round; bad input answers the PTZ
specification's faults; every command is in the control API's log with its arrival time;
every answer is valid against ptz.wsdl (strictly, with lxml).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from onvif import ONVIFCamera
from zeep.exceptions import Fault

from simulator.onvif.ptz_log import PtzLog
from simulator.onvif.ptz_node import MAX_PRESETS, TPTZ
from tests.onvif.conftest import Onvif, _start, _stop
from tests.onvif.test_hostile import ENV, fault, post
from tests.onvif.test_schema import _schema, answer
from tests.onvif.test_zoneminder_probe import PROBE
from tests.streams.conftest import LoopThread

CAM = "{resolution: 320x180, fps: 10, gop: 10, codec: h264, bitrate: {target_mbps: 0.3}}"
SCENARIO = f"""
name: ptz test city
cameras:
  - {{name: dome, count: 2, district: north, sub_stream: {{enabled: false}}, {CAM[1:]}
  - {{name: fixed, count: 1, district: north, sub_stream: {{enabled: false}}, {CAM[1:]}
network:
  districts: [{{name: north, uplink: {{capacity_mbps: 1000}}}}]
  core: {{capacity_mbps: 10000}}
recording:
  servers: [{{name: rec}}]
"""
PTZ_PATH = "/onvif/ptz_service"
TT = "http://www.onvif.org/ver10/schema"


@pytest.fixture(scope="module")
def ptz(onvif_loop: LoopThread, onvif_clips: Path, tmp_path_factory: Any) -> Iterator[Onvif]:
    """Two domes and a fixed camera served as ONVIF devices, with the control API."""
    path = tmp_path_factory.mktemp("ptz") / "ptz.yaml"
    path.write_text(SCENARIO)
    o = _start(onvif_loop, onvif_clips, path, discovery_port=None)
    yield o
    _stop(o)


def run(o: Onvif, camera: str, steps: Any) -> Any:
    """Run `steps(cam, ptz_service)` with the library connected to a camera."""

    async def go() -> Any:
        cam = ONVIFCamera("127.0.0.1", o.port(camera), "anyone", "x")
        try:
            await cam.update_xaddrs()
            return await steps(cam, await cam.create_ptz_service())
        finally:
            await cam.close()

    return asyncio.run(go())


def vec(pan: float, tilt: float, zoom: float) -> dict:
    return {"PanTilt": {"x": pan, "y": tilt}, "Zoom": {"x": zoom}}


def where(status: Any) -> tuple[float, float, float, str, str]:
    p, m = status.Position, status.MoveStatus
    return (p.PanTilt.x, p.PanTilt.y, p.Zoom.x, m.PanTilt, m.Zoom)


async def until_idle(svc: Any, timeout: float = 10.0) -> tuple:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = where(await svc.GetStatus({"ProfileToken": "main"}))
        if got[3:] == ("IDLE", "IDLE"):
            return got
        await asyncio.sleep(0.05)
    raise AssertionError(f"still moving after {timeout} s: {got}")


def test_only_the_domes_have_ptz(ptz: Onvif) -> None:
    async def describe(cam: Any) -> tuple:
        await cam.update_xaddrs()
        media = await cam.create_media_service()
        profile = (await media.GetProfiles())[0]
        return TPTZ in cam.xaddrs, profile.PTZConfiguration, await cam.get_capabilities()

    async def nodes(cam: Any, svc: Any) -> tuple:
        return await svc.GetNodes(), await svc.GetConfigurations()

    def described(camera: str) -> tuple:
        async def go() -> tuple:
            cam = ONVIFCamera("127.0.0.1", ptz.port(camera), "anyone", "x")
            try:
                return await describe(cam)
            finally:
                await cam.close()

        return asyncio.run(go())

    has, conf, caps = described("dome-001")
    assert has and conf.token == "ptz_config" and conf.NodeToken == "ptz_node"
    assert caps["PTZ"]["XAddr"].endswith(PTZ_PATH)
    has, conf, caps = described("fixed-001")
    assert not has and conf is None and caps["PTZ"] is None
    node_list, configs = run(ptz, "dome-001", nodes)
    node = node_list[0]
    assert node.MaximumNumberOfPresets == MAX_PRESETS and node.HomeSupported
    spaces = node.SupportedPTZSpaces
    assert spaces.AbsolutePanTiltPositionSpace[0].XRange.Min == -1
    assert spaces.AbsoluteZoomPositionSpace[0].XRange.Max == 1
    assert configs[0].DefaultPTZTimeout is not None


def test_an_absolute_move_is_seen_on_its_way_then_at_its_target(ptz: Onvif) -> None:
    """0.6 of pan at half speed (0.5 a second) takes 1.2 s: the status at once says MOVING
    and a pan between the two; then IDLE, exactly at the target."""

    async def steps(cam: Any, svc: Any) -> tuple:
        await svc.AbsoluteMove({"ProfileToken": "main", "Position": vec(0, 0, 0)})
        await until_idle(svc)
        await svc.AbsoluteMove({"ProfileToken": "main", "Position": vec(0.6, -0.2, 0.4),
                                "Speed": vec(0.5, 0.5, 0.5)})  # fmt: skip
        on_the_way = where(await svc.GetStatus({"ProfileToken": "main"}))
        return on_the_way, await until_idle(svc)

    on_the_way, there = run(ptz, "dome-001", steps)
    assert on_the_way[3] == "MOVING" and 0 < on_the_way[0] < 0.6, on_the_way
    assert there == pytest.approx((0.6, -0.2, 0.4, "IDLE", "IDLE"))


def test_a_continuous_move_stops_at_stop(ptz: Onvif) -> None:
    async def steps(cam: Any, svc: Any) -> tuple:
        await svc.AbsoluteMove({"ProfileToken": "main", "Position": vec(0, 0, 0)})
        await until_idle(svc)
        await svc.ContinuousMove({"ProfileToken": "main", "Velocity": vec(-0.2, 0, 0),
                                  "Timeout": "PT30S"})  # fmt: skip
        await asyncio.sleep(0.3)
        moving = where(await svc.GetStatus({"ProfileToken": "main"}))
        await svc.Stop({"ProfileToken": "main", "PanTilt": True, "Zoom": True})
        stopped = where(await svc.GetStatus({"ProfileToken": "main"}))
        await asyncio.sleep(0.3)
        later = where(await svc.GetStatus({"ProfileToken": "main"}))
        return moving, stopped, later

    moving, stopped, later = run(ptz, "dome-001", steps)
    assert moving[3] == "MOVING" and moving[0] < 0
    assert stopped[3:] == ("IDLE", "IDLE") and stopped == later
    assert -1 < stopped[0] <= moving[0]  # it went on between the two statuses, then stopped


def test_presets_go_round(ptz: Onvif) -> None:
    async def steps(cam: Any, svc: Any) -> tuple:
        main = {"ProfileToken": "main"}
        await svc.AbsoluteMove({**main, "Position": vec(-0.25, 0.25, 0.5)})
        await until_idle(svc)
        token = await svc.SetPreset({**main, "PresetName": "door"})
        await svc.AbsoluteMove({**main, "Position": vec(0, 0, 0.5)})
        await until_idle(svc)
        await svc.GotoPreset({**main, "PresetToken": token})
        back = await until_idle(svc)
        presets = await svc.GetPresets(main)
        await svc.RemovePreset({**main, "PresetToken": token})
        with pytest.raises(Fault) as err:
            await svc.GotoPreset({**main, "PresetToken": token})
        return token, back, presets, err.value

    token, back, presets, err = run(ptz, "dome-001", steps)
    assert back == pytest.approx((-0.25, 0.25, 0.5, "IDLE", "IDLE"))
    assert [(p.token, p.Name) for p in presets] == [(token, "door")]
    assert presets[0].PTZPosition.PanTilt.x == -0.25
    assert [q.localname for q in err.subcodes] == ["InvalidArgVal", "NoToken"]


def ptz_soap(body: str) -> bytes:
    return (
        f'<?xml version="1.0"?><s:Envelope xmlns:s="{ENV}" xmlns:tptz="{TPTZ}" xmlns:tt="{TT}">'
        f"<s:Body>{body}</s:Body></s:Envelope>"
    ).encode()


MAIN = "<tptz:ProfileToken>main</tptz:ProfileToken>"
FAULTS = [  # camera, request, subcodes
    ("fixed-001", f"<tptz:GetStatus>{MAIN}</tptz:GetStatus>",
     ["ter:InvalidArgVal", "ter:NoPTZProfile"]),
    ("fixed-001", "<tptz:GetNodes/>", ["ter:ActionNotSupported", "ter:PTZNotSupported"]),
    ("dome-002", "<tptz:GetStatus><tptz:ProfileToken>sub</tptz:ProfileToken></tptz:GetStatus>",
     ["ter:InvalidArgVal", "ter:NoProfile"]),
    ("dome-002", f'<tptz:AbsoluteMove>{MAIN}<tptz:Position><tt:PanTilt x="2" y="0"/>'
     "</tptz:Position></tptz:AbsoluteMove>", ["ter:InvalidArgVal", "ter:InvalidPosition"]),
    ("dome-002", f'<tptz:AbsoluteMove>{MAIN}<tptz:Position><tt:Zoom x="nan"/>'
     "</tptz:Position></tptz:AbsoluteMove>", ["ter:InvalidArgVal", "ter:InvalidPosition"]),
    ("dome-002", f'<tptz:AbsoluteMove>{MAIN}<tptz:Position><tt:Zoom x="0.5" space="urn:x"/>'
     "</tptz:Position></tptz:AbsoluteMove>", ["ter:InvalidArgVal", "ter:SpaceNotSupported"]),
    ("dome-002", f'<tptz:AbsoluteMove>{MAIN}<tptz:Position><tt:Zoom x="0.5"/></tptz:Position>'
     '<tptz:Speed><tt:Zoom x="0"/></tptz:Speed></tptz:AbsoluteMove>',
     ["ter:InvalidArgVal", "ter:InvalidSpeed"]),
    ("dome-002", f'<tptz:RelativeMove>{MAIN}<tptz:Translation><tt:PanTilt x="0" y="-1.5"/>'
     "</tptz:Translation></tptz:RelativeMove>", ["ter:InvalidArgVal", "ter:InvalidTranslation"]),
    ("dome-002", f'<tptz:ContinuousMove>{MAIN}<tptz:Velocity><tt:PanTilt x="0.1" y="0"/>'
     "</tptz:Velocity><tptz:Timeout>PT2H</tptz:Timeout></tptz:ContinuousMove>",
     ["ter:InvalidArgVal", "ter:TimeoutNotSupported"]),
    ("dome-002", f"<tptz:GotoPreset>{MAIN}<tptz:PresetToken>99</tptz:PresetToken>"
     "</tptz:GotoPreset>", ["ter:InvalidArgVal", "ter:NoToken"]),
    ("dome-002", f"<tptz:SetPreset>{MAIN}<tptz:PresetName>{'x' * 65}</tptz:PresetName>"
     "</tptz:SetPreset>", ["ter:InvalidArgVal", "ter:InvalidPresetName"]),
    ("dome-002", "<tptz:GetNode><tptz:NodeToken>other</tptz:NodeToken></tptz:GetNode>",
     ["ter:InvalidArgVal", "ter:NoEntity"]),
]  # fmt: skip


@pytest.mark.parametrize(("camera", "body", "subcodes"), FAULTS)
def test_bad_input_answers_the_spec_s_fault(
    ptz: Onvif, camera: str, body: str, subcodes: list[str]
) -> None:
    status, raw = post(ptz.port(camera), ptz_soap(body), path=PTZ_PATH)
    assert status in (400, 500), raw[:300]
    assert fault(raw)[1] == subcodes, raw[:400]


def test_presets_are_bounded(ptz: Onvif) -> None:
    port = ptz.port("dome-002")
    tokens = []
    for i in range(MAX_PRESETS):
        el = answer(port, ptz_soap(f"<tptz:SetPreset>{MAIN}<tptz:PresetName>p{i}</tptz:PresetName>"
                                   "</tptz:SetPreset>"), PTZ_PATH)  # fmt: skip
        tokens.append(el.findtext(f"{{{TPTZ}}}PresetToken"))
    assert tokens == [str(i) for i in range(1, MAX_PRESETS + 1)]
    status, raw = post(port, ptz_soap(f"<tptz:SetPreset>{MAIN}</tptz:SetPreset>"), path=PTZ_PATH)
    assert fault(raw) == ("env:Receiver", ["ter:Action", "ter:TooManyPresets"])
    renamed = (f"<tptz:SetPreset>{MAIN}<tptz:PresetName>p3</tptz:PresetName><tptz:PresetToken>"
               "5</tptz:PresetToken></tptz:SetPreset>")  # p3 is token 4's name  # fmt: skip
    assert fault(post(port, ptz_soap(renamed), path=PTZ_PATH)[1])[1][-1] == "ter:PresetExist"
    for t in tokens:  # leave the camera as found
        answer(port, ptz_soap(f"<tptz:RemovePreset>{MAIN}<tptz:PresetToken>{t}"
                              "</tptz:PresetToken></tptz:RemovePreset>"), PTZ_PATH)  # fmt: skip


def test_every_command_is_logged_with_its_arrival(ptz: Onvif) -> None:
    port = ptz.port("dome-002")
    before = time.time()
    body = f'<tptz:AbsoluteMove>{MAIN}<tptz:Position><tt:PanTilt x="0.125" y="0"/></tptz:Position>'
    answer(port, ptz_soap(body + "</tptz:AbsoluteMove>"), PTZ_PATH)
    post(port, ptz_soap(f"<tptz:GotoPreset>{MAIN}<tptz:PresetToken>nope</tptz:PresetToken>"
                        "</tptz:GotoPreset>"), path=PTZ_PATH)  # fmt: skip
    answer(port, ptz_soap(f"<tptz:GetStatus>{MAIN}</tptz:GetStatus>"), PTZ_PATH)  # not logged
    after = time.time()
    url = f"http://127.0.0.1:{ptz.api_port}/api/onvif/ptz"
    with urllib.request.urlopen(url, timeout=10) as r:
        log = json.loads(r.read())
    assert log["capacity"] == 10_000 and log["total"] >= 2
    move, goto = log["commands"][-2:]
    assert (move["camera"], move["kind"], move["fault"]) == ("dome-002", "AbsoluteMove", None)
    assert move["args"]["position"] == [0.125, 0.0, None] and move["args"]["profile"] == "main"
    assert before <= move["wall"] <= goto["wall"] <= after
    assert (goto["kind"], goto["args"]["preset"], goto["fault"]) == (
        "GotoPreset", "nope", "ter:InvalidArgVal/ter:NoToken",
    )  # fmt: skip
    assert goto["seq"] == move["seq"] + 1


def test_the_log_is_a_bounded_ring() -> None:
    log = PtzLog(capacity=3)
    for i in range(5):
        log.add(float(i), "dome-001", "GotoPreset", {"preset": "x" * 60_000}, None)
    got = log.to_json()
    assert (got["total"], got["dropped"]) == (5, 2)
    assert [c["seq"] for c in got["commands"]] == [3, 4, 5]
    assert [c["seq"] for c in log.to_json(since=4)["commands"]] == [5]
    assert len(got["commands"][0]["args"]["preset"]) == 64  # a huge token is not kept whole


QUERIES = [
    "<tptz:GetServiceCapabilities/>", "<tptz:GetNodes/>",
    "<tptz:GetNode><tptz:NodeToken>ptz_node</tptz:NodeToken></tptz:GetNode>",
    "<tptz:GetConfigurations/>",
    "<tptz:GetConfiguration><tptz:PTZConfigurationToken>ptz_config</tptz:PTZConfigurationToken>"
    "</tptz:GetConfiguration>",
    "<tptz:GetConfigurationOptions><tptz:ConfigurationToken>ptz_config</tptz:ConfigurationToken>"
    "</tptz:GetConfigurationOptions>",
    f"<tptz:GetStatus>{MAIN}</tptz:GetStatus>",
    f"<tptz:Stop>{MAIN}</tptz:Stop>",  # a preset is set with the head still
    f"<tptz:SetPreset>{MAIN}<tptz:PresetName>schema</tptz:PresetName></tptz:SetPreset>",
    f"<tptz:GetPresets>{MAIN}</tptz:GetPresets>",
    f"<tptz:RemovePreset>{MAIN}<tptz:PresetToken>1</tptz:PresetToken></tptz:RemovePreset>",
    f'<tptz:RelativeMove>{MAIN}<tptz:Translation><tt:Zoom x="0.1"/></tptz:Translation>'
    "</tptz:RelativeMove>",
    f'<tptz:AbsoluteMove>{MAIN}<tptz:Position><tt:PanTilt x="0" y="0"/></tptz:Position>'
    '<tptz:Speed><tt:PanTilt x="1" y="1"/><tt:Zoom x="0"/></tptz:Speed></tptz:AbsoluteMove>',
    f"<tptz:Stop>{MAIN}</tptz:Stop>",
    f"<tptz:SetHomePosition>{MAIN}</tptz:SetHomePosition>",
    f"<tptz:GotoHomePosition>{MAIN}</tptz:GotoHomePosition>",
]  # fmt: skip


def test_every_ptz_answer_is_valid(ptz: Onvif) -> None:
    """Strictly against ptz.wsdl, and a dome's profiles and services against theirs."""
    port = ptz.port("dome-002")
    schema = _schema("ptz.wsdl")
    for op in QUERIES:
        el = answer(port, ptz_soap(op), PTZ_PATH)
        assert schema.validate(el), f"{op[:40]}: {schema.error_log.last_error}"
    media, device = _schema("media.wsdl"), _schema("devicemgmt.wsdl")
    from tests.onvif.test_hostile import soap

    for op, sch in (("<trt:GetProfiles/>", media),
                    ("<tds:GetServices><tds:IncludeCapability>true</tds:IncludeCapability>"
                     "</tds:GetServices>", device),
                    ("<tds:GetCapabilities><tds:Category>PTZ</tds:Category></tds:GetCapabilities>",
                     device)):  # fmt: skip
        el = answer(port, soap(op))
        assert sch.validate(el), f"{op[:40]}: {sch.error_log.last_error}"
    assert etree.QName(el).localname == "GetCapabilitiesResponse"


ZM_CONTROL = """
use strict; use warnings;
use ZoneMinder::Control::onvif;
my ($port) = @ARGV;
my $c = bless {Monitor => {ControlDevice => 'main', ControlAddress => "127.0.0.1:$port",
                           AutoStopTimeout => 300000}}, 'ZoneMinder::Control::onvif';
$c->open();  # the Monitor given: no database
$c->moveConLeft();  # ContinuousMove, then Stop after the auto-stop timeout (0.3 s)
$c->presetSet({preset => 3});
$c->moveMap({xcoord => 0.5, ycoord => -0.5});
$c->moveRel({xcoord => 0.1, ycoord => 0, speed => 1});
$c->presetGoto({preset => 3});
$c->presetHome();
$c->moveStop();
"""


def test_zoneminder_s_onvif_control_moves_the_dome(ptz: Onvif, zoneminder_url: str) -> None:
    """ZoneMinder 1.36's own PTZ control (ZoneMinder::Control::onvif, what its ONVIF control
    type runs for a monitor's arrows and presets) reaches the dome: every command arrives,
    none refused (it names the position space in a RelativeMove and a free preset slot).
    ZoneMinder's setup script installs it (and the DateTime module it needs)."""
    url = f"http://127.0.0.1:{ptz.api_port}/api/onvif/ptz"
    with urllib.request.urlopen(url, timeout=10) as r:
        since = json.loads(r.read())["total"]
    out = subprocess.run(["perl", "-e", ZM_CONTROL, str(ptz.port("dome-001"))],
                         capture_output=True, text=True, timeout=60, cwd="/tmp")  # fmt: skip
    assert out.returncode == 0, out.stderr[-500:]
    with urllib.request.urlopen(url, timeout=10) as r:
        got = [c for c in json.loads(r.read())["commands"] if c["seq"] > since]
    assert [(c["camera"], c["kind"], c["fault"]) for c in got] == [
        ("dome-001", kind, None)
        for kind in ("ContinuousMove", "Stop", "SetPreset", "AbsoluteMove", "RelativeMove",
                     "GotoPreset", "GotoHomePosition", "Stop")
    ]  # fmt: skip
    assert got[0]["args"]["velocity"] == [-0.49, 0.0, None]  # its left arrow
    assert got[2]["args"]["token"] == "3"
    remove = f"<tptz:RemovePreset>{MAIN}<tptz:PresetToken>3</tptz:PresetToken></tptz:RemovePreset>"
    answer(ptz.port("dome-001"), ptz_soap(remove), PTZ_PATH)


@pytest.mark.skipif(not Path(PROBE).exists(), reason="ZoneMinder's zmonvif-probe.pl")
def test_zoneminder_probe_reads_a_dome_s_profile(ptz: Onvif) -> None:
    """ZoneMinder's SOAP::WSDL drops an answer holding an element it does not know: the
    dome's profile, with its PTZ configuration, is still read (what --register onvif adds)."""
    dev = ptz.devices.device("dome-001")
    assert dev is not None
    for soap in ("1.2", "1.1"):
        out = subprocess.run([PROBE, "profiles", dev.device_xaddr, soap, "u", "p"],
                             capture_output=True, text=True, timeout=60, cwd="/tmp")  # fmt: skip
        rows = [line.split(", ") for line in out.stdout.splitlines() if line.count(", ") == 7]
        assert [r[:3] + r[-1:] for r in rows] == [
            ["main", "main", "H264", ptz.cameras.url("dome-001", "main")]
        ] * 2, out.stderr[-500:]  # RTP_unicast and RTP-Unicast
