"""`camsim lab --register onvif`: cameras added to the real ZoneMinder as its ONVIF wizard adds
them: `camsim serve --onvif`, ZoneMinder's own `zmonvif-probe.pl profiles` on each camera's
device, a monitor made from the stream URI and ONVIF URL the probe returned, and a dome
given ZoneMinder's ONVIF PTZ control. One short run of two cameras of their own names; a
probe of a device that is not there; bad input."""

from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from simulator.lab.attach import AttachError, register_onvif
from simulator.streams.records import CameraRow, StreamRow
from simulator.targets import FastClient
from simulator.targets.onvif_probe import (
    choose,
    parse_profiles,
    probe_path,
    wizard_monitor,
)
from simulator.targets.zoneminder import ZoneMinder

CAMSIM = [sys.executable, "-m", "simulator.cli"]
CITY = """name: lab onvif city
cameras:
  - {name: onvifcam, count: 1, district: north, resolution: 320x180, fps: 10, gop: 10,
     codec: h264, bitrate: {target_mbps: 0.3}}
  - {name: onvif-dome, count: 1, district: north, resolution: 320x180, fps: 10, gop: 10,
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


def test_zoneminder_records_the_cameras_its_probe_described_and_moves_the_dome(
    zoneminder_url: str, tmp_path: Path
) -> None:
    """Two cameras, a fixed one and a dome (PTZ), for 30 s; while the run holds, the
    dome is moved through ZoneMinder's web control request, as an operator's arrow does."""
    scenario = tmp_path / "city.yaml"
    scenario.write_text(CITY)
    out = tmp_path / "lab"
    lab = subprocess.Popen([*CAMSIM, "lab", str(scenario), "--target", "zoneminder", "--host",
                            zoneminder_url, "--cameras", "2", "--duration", "30s",
                            "--no-load", "--register", "onvif", "--keep", "--out", str(out)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    ids: dict[str, str] = {}
    try:
        ids = _registered(out / "ledger.sqlite", 2, lab)
        control = (f"{zoneminder_url}/index.php?view=request&request=control"
                   f"&id={ids['onvif-dome-001']}&control=moveConLeft")  # fmt: skip
        with urllib.request.urlopen(control, timeout=60) as r:
            said = json.loads(r.read())
        time.sleep(1.0)
        moved = _ptz_log(out / "ledger.sqlite")
        stdout, stderr = lab.communicate(timeout=300)
        monitors = {cam: _monitor(zoneminder_url, tid) for cam, tid in ids.items()}
    finally:  # the run kept its monitors so that they could be read: remove them now
        if lab.poll() is None:
            lab.kill()
            lab.wait()
        zm = ZoneMinder(FastClient(), zoneminder_url)
        for tid in ids.values():
            zm.remove_camera(tid)  # and the control server the dome's move started
    assert lab.returncode == 0, stdout[-3000:] + stderr[-3000:]
    db = sqlite3.connect(out / "ledger.sqlite")
    urls = dict(db.execute("SELECT camera, url FROM cameras"))
    facts = {k: json.loads(v) for k, v in db.execute("SELECT key, value FROM run")}
    db.close()
    assert facts["register"] == "onvif"
    probed = facts["attached"]["onvif"]["cameras"]
    assert [(c[0], c[2], c[3]) for c in probed] == [("onvifcam-001", 4, False),
                                                   ("onvif-dome-001", 4, True)]  # fmt: skip
    assert all(0 < c[1] < 60 for c in probed), probed  # main and sub, RTP_unicast and -Unicast
    onvif_urls = set()
    for cam, m in monitors.items():
        assert m["Path"] == urls[cam] and m["Path"].endswith(f"/{cam}/main")
        assert (m["Method"], m["ControlDevice"], m["ONVIF_Options"]) == ("rtpRtsp", "main",
                                                                         "SOAP12")  # fmt: skip
        assert m["ONVIF_URL"].startswith("http://127.0.0.1:")
        assert m["ONVIF_URL"].endswith("/onvif/device_service")
        onvif_urls.add(m["ONVIF_URL"])
    assert len(onvif_urls) == 2 and min(onvif_urls) in (out / "serve.log").read_text()
    fixed, dome = monitors["onvifcam-001"], monitors["onvif-dome-001"]
    assert int(fixed["Controllable"]) == 0 and int(dome["Controllable"]) == 1
    assert dome["ControlAddress"].endswith("/onvif/ptz_service")
    # ZoneMinder's control request reached the dome, as its ONVIF control module sends it
    assert said["result"] == "Ok", said
    assert [(c["camera"], c["kind"], c["args"]["profile"], c["fault"]) for c in moved] == [
        ("onvif-dome-001", "ContinuousMove", "main", None)
    ]
    assert moved[0]["args"]["velocity"][0] < 0  # left
    sock = Path(f"/run/zm/zmcontrol-{ids['onvif-dome-001']}.sock")  # its control server
    for _ in range(50):  # ends on the quit remove_camera sent, and removes its socket
        if not sock.exists():
            break
        time.sleep(0.1)
    assert not sock.exists()
    assert ("onvif: 2 cameras added from zmonvif-probe.pl's profiles and stream URIs" in stdout
            and "1 with ZoneMinder's ONVIF PTZ control" in stdout)  # fmt: skip
    v = json.loads((out / "verdict.json").read_text())
    assert v["passed"] is True
    ratios = {f["camera"]: f["ratio"] for f in v["frames"]}
    assert sorted(ratios) == ["onvif-dome-001", "onvifcam-001"]
    # recorded / produced over 30 s (300 frames): an event's edges past the window count
    assert all(0.95 <= r <= 1.15 for r in ratios.values()), ratios


def _registered(ledger: Path, n: int, lab: subprocess.Popen) -> dict[str, str]:
    """The run's cameras and their monitors, once all n are in the ledger (the warm-up)."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and lab.poll() is None:
        if ledger.exists():
            db = sqlite3.connect(ledger)
            try:
                ids = dict(db.execute("SELECT camera, target_id FROM cameras"))
            except sqlite3.OperationalError:  # not created yet
                ids = {}
            db.close()
            if len(ids) == n:
                return ids
        time.sleep(0.5)
    raise AssertionError(f"the lab registered no {n} cameras (exit {lab.poll()})")


def _ptz_log(ledger: Path) -> list[dict]:
    """The PTZ commands the run's cameras received (camsim serve's GET /api/onvif/ptz)."""
    db = sqlite3.connect(ledger)
    (gen,) = db.execute("SELECT value FROM run WHERE key = 'generator'").fetchone()
    db.close()
    with urllib.request.urlopen(json.loads(gen)["api"] + "api/onvif/ptz", timeout=10) as r:
        return json.loads(r.read())["commands"]


def _monitor(url: str, target_id: str) -> dict:
    with urllib.request.urlopen(f"{url}/api/monitors/{target_id}.json", timeout=30) as r:
        return json.loads(r.read())["monitor"]["Monitor"]
