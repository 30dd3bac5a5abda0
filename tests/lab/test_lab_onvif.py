"""`camsim lab --register onvif`: cameras added to the real ZoneMinder as its ONVIF wizard adds
them: `camsim serve --onvif`, ZoneMinder's own `zmonvif-probe.pl profiles` on each camera's
device, a monitor made from the stream URI and ONVIF URL the probe returned. One short run
of two cameras of their own names; a probe of a device that is not there; bad input."""

from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from simulator.lab.attach import AttachError, register_onvif
from simulator.streams.records import CameraRow, StreamRow
from simulator.targets.onvif_probe import (
    choose,
    parse_profiles,
    probe_path,
    wizard_monitor,
)

CAMSIM = [sys.executable, "-m", "simulator.cli"]
CITY = """name: lab onvif city
cameras:
  - {name: onvifcam, count: 2, district: north, resolution: 320x180, fps: 10, gop: 10,
     codec: h264, bitrate: {target_mbps: 0.3}}
network:
  districts:
    - {name: north, uplink: {capacity_mbps: 1000}}
  core: {capacity_mbps: 10000}
recording:
  servers: [{name: rec}]
"""
# What the probe printed for a camsim camera (tests/onvif/test_zoneminder_probe.py)
PRINTED = """main, main, H264, 320, 180, 10, RTP_unicast, rtsp://127.0.0.1:8554/c-001/main
main, main, H264, 320, 180, 10, RTP-Unicast, rtsp://127.0.0.1:8554/c-001/main
sub, sub, H264, 160, 96, 5, RTP_unicast, rtsp://127.0.0.1:8554/c-001/sub
sub, sub, H264, 160, 96, 5, RTP-Unicast, rtsp://127.0.0.1:8554/c-001/sub
"""


def test_the_wizards_monitor_from_the_probes_lines() -> None:
    profiles = parse_profiles("Probing\n" + PRINTED + "No StreamUri on profile x\n")
    assert [(p.token, p.stream_type, p.width) for p in profiles] == [
        ("main", "RTP_unicast", 320), ("main", "RTP-Unicast", 320),
        ("sub", "RTP_unicast", 160), ("sub", "RTP-Unicast", 160),
    ]  # fmt: skip
    main = choose(profiles[1::-1] + profiles[2:])
    assert main == profiles[0]  # the first listed, recorded over RTSP's TCP connection
    assert choose(profiles[2:] + profiles[:2]) == profiles[2]  # whatever its size
    url = "http://127.0.0.1:18000/onvif/device_service"
    fields = wizard_monitor(main, url, "admin", "s3cret")
    assert fields["Path"] == "rtsp://admin:s3cret@127.0.0.1:8554/c-001/main"
    assert (fields["Method"], fields["ControlDevice"]) == ("rtpRtsp", "main")
    assert (fields["ONVIF_URL"], fields["ONVIF_Options"]) == (url, "SOAP12")
    assert wizard_monitor(main, url, "", "")["Path"] == main.uri  # no `:@` without a user
    assert choose([p for p in profiles if p.stream_type == "RTP-Unicast"]) == profiles[1]


@pytest.mark.skipif(probe_path() is None, reason="needs ZoneMinder's zmonvif-probe.pl")
def test_a_device_that_does_not_answer_is_the_harnesss_fault() -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    stream = StreamRow("rtsp://127.0.0.1:1/c-001/main", "h264", 320, 180, 10.0, 0.3, 0.3,
                       *[0] * 9)  # fmt: skip
    cam = CameraRow("c-001", "north", "online", False, [], {"main": stream})
    device = f"http://127.0.0.1:{port}/onvif/device_service"
    with pytest.raises(AttachError) as err:
        register_onvif(None, [cam], {"c-001": device})
    said = str(err.value)
    assert "camera c-001: the harness's fault" in said and device in said, said
    assert "\n" not in said


def test_register_onvif_needs_zoneminder(tmp_path: Path) -> None:
    scenario = tmp_path / "city.yaml"
    scenario.write_text(CITY)
    run = subprocess.run([*CAMSIM, "lab", str(scenario), "--target", "rest", "--host",
                          "http://127.0.0.1:9", "--mapping", "x.yaml", "--register", "onvif",
                          "--out", str(tmp_path / "o")], capture_output=True, text=True,
                         timeout=60)  # fmt: skip
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [
        "camsim: error: --register onvif is for --target zoneminder (its zmonvif-probe.pl), not "
        "--target rest"
    ]
    assert not (tmp_path / "o").exists()


def test_zoneminder_records_the_cameras_its_probe_described(
    zoneminder_url: str, tmp_path: Path
) -> None:
    scenario = tmp_path / "city.yaml"
    scenario.write_text(CITY)
    out = tmp_path / "lab"
    run = subprocess.run([*CAMSIM, "lab", str(scenario), "--target", "zoneminder", "--host",
                          zoneminder_url, "--cameras", "2", "--duration", "30s", "--no-load",
                          "--register", "onvif", "--keep", "--out", str(out)],
                         capture_output=True, text=True, timeout=300)  # fmt: skip
    db = sqlite3.connect(out / "ledger.sqlite")
    ids = dict(db.execute("SELECT camera, target_id FROM cameras"))
    urls = dict(db.execute("SELECT camera, url FROM cameras"))
    facts = {k: json.loads(v) for k, v in db.execute("SELECT key, value FROM run")}
    db.close()
    try:
        monitors = {cam: _monitor(zoneminder_url, tid) for cam, tid in ids.items()}
    finally:  # the run kept its monitors so that they could be read: remove them now
        for tid in ids.values():
            req = urllib.request.Request(f"{zoneminder_url}/api/monitors/{tid}.json",
                                         method="DELETE")  # fmt: skip
            urllib.request.urlopen(req, timeout=30).close()
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert sorted(ids) == ["onvifcam-001", "onvifcam-002"]
    assert facts["register"] == "onvif"
    probed = facts["attached"]["onvif"]["cameras"]
    assert [c[0] for c in probed] == ["onvifcam-001", "onvifcam-002"]
    assert all(0 < c[1] < 60 and c[2] == 4 for c in probed), probed  # main, sub × 2 types
    serve_log = (out / "serve.log").read_text()
    onvif_urls = set()
    for cam, m in monitors.items():
        assert m["Path"] == urls[cam] and m["Path"].endswith(f"/{cam}/main")
        assert (m["Method"], m["ControlDevice"], m["ONVIF_Options"]) == ("rtpRtsp", "main",
                                                                         "SOAP12")  # fmt: skip
        assert m["ONVIF_URL"].startswith("http://127.0.0.1:")
        assert m["ONVIF_URL"].endswith("/onvif/device_service")
        onvif_urls.add(m["ONVIF_URL"])
    assert len(onvif_urls) == 2 and min(onvif_urls) in serve_log  # serve's first device
    assert "onvif: 2 cameras added from zmonvif-probe.pl's profiles and stream URIs" in run.stdout
    v = json.loads((out / "verdict.json").read_text())
    assert v["passed"] is True
    assert {f["camera"]: f["ratio"] for f in v["frames"]} == {
        "onvifcam-001": pytest.approx(1.0, abs=0.06),
        "onvifcam-002": pytest.approx(1.0, abs=0.06),
    }


def _monitor(url: str, target_id: str) -> dict:
    with urllib.request.urlopen(f"{url}/api/monitors/{target_id}.json", timeout=30) as r:
        return json.loads(r.read())["monitor"]["Monitor"]
