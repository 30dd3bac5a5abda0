"""WS-Discovery: every camera answers a Probe with its types, scopes and XAddrs.

Unicast probes on 127.0.0.1, written and read by the WSDiscovery package's own message code;
multicast in a network namespace the test creates (`unshare -n`, root), found by the package's
ThreadedWSDiscovery and by ZoneMinder's `zmonvif-probe.pl probe`, and the cameras' Hello and
Bye heard by the package's listener (discover_in_netns.py).
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

from wsdiscovery import QName, Scope
from wsdiscovery.actions import constructProbe
from wsdiscovery.message import createSOAPMessage, parseSOAPMessage

from tests.onvif.conftest import Onvif

NVT = QName("http://www.onvif.org/ver10/network/wsdl", "NetworkVideoTransmitter", "dn")
ROOT = Path(__file__).parents[2]


def unicast_probe(port: int, scopes: list[str] | None = None, repeat: int = 1) -> list:
    """The ProbeMatches answering one probe (sent `repeat` times, as UDP senders do)."""
    env = constructProbe([NVT], [Scope(s) for s in scopes or []])
    data = createSOAPMessage(env).encode()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        for _ in range(repeat):
            sock.sendto(data, ("127.0.0.1", port))
        sock.settimeout(0.5)
        got = []
        end = time.monotonic() + 3
        while time.monotonic() < end:
            try:
                raw, addr = sock.recvfrom(65536)
            except TimeoutError:
                break
            answer = parseSOAPMessage(raw.decode(), addr[0])
            assert answer is not None and answer.getRelatesTo() == env.getMessageId()
            got += answer.getProbeResolveMatches()
        return got


def test_every_camera_answers_a_probe(onvif: Onvif) -> None:
    matches = unicast_probe(onvif.devices.discovery_port, repeat=2)
    assert sorted(x for m in matches for x in m.getXAddrs()) == sorted(
        d.device_xaddr for d in onvif.devices.devices
    )  # each camera once, though the probe came twice
    scopes = {m.getXAddrs()[0]: [s.getValue() for s in m.getScopes()] for m in matches}
    one = scopes[onvif.devices.device("h265cam-001").device_xaddr]
    assert "onvif://www.onvif.org/location/south" in one
    assert "onvif://www.onvif.org/name/h265cam-001" in one
    assert "NetworkVideoTransmitter" in [t.getLocalname() for t in matches[0].getTypes()]
    assert len({m.getEPR() for m in matches}) == 5


def test_a_probe_s_scopes_choose_the_cameras(onvif: Onvif) -> None:
    port = onvif.devices.discovery_port
    south = unicast_probe(port, ["onvif://www.onvif.org/location/south"])
    ports = sorted(int(m.getXAddrs()[0].split(":")[2].split("/")[0]) for m in south)
    assert ports == sorted([onvif.port("h265cam-001"), onvif.port("mjpegcam-001")])
    assert unicast_probe(port, ["onvif://www.onvif.org/location/nowhere"]) == []


def test_garbage_is_not_answered(onvif: Onvif) -> None:
    before = onvif.call(lambda: onvif.devices.responder.dropped)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for junk in (
            b"<x",
            b"\x00" * 20000,
            b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY b "c">]><a/>',
        ):
            sock.sendto(junk, ("127.0.0.1", onvif.devices.discovery_port))
    time.sleep(0.2)
    assert onvif.call(lambda: onvif.devices.responder.dropped) - before == 3
    assert len(unicast_probe(onvif.devices.discovery_port)) == 5  # still answering


def test_multicast_discovery_in_a_namespace(onvif: Onvif, onvif_clips: Path) -> None:
    out = subprocess.run(
        ["unshare", "-n", sys.executable, "-m", "tests.onvif.discover_in_netns", str(onvif_clips)],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-1500:]
    found = json.loads(out.stdout.splitlines()[-1])
    served = found["served"]
    assert sorted(found["wsdiscovery"]) == sorted(served)
    zm = {line.split(", ")[0]: line for line in found["zoneminder"]}
    assert sorted(zm) == sorted(served)
    assert "name='mjpegcam-001', location='south', hardware='mjpegcam'" in " ".join(zm.values())
    heard, epr = found["heard"], found["epr"]
    xaddr = {cam: x for x, cam in served.items()}
    hellos = [h for h in heard if h[0] == "hello"]
    assert sorted(h[1:] for h in hellos[: len(served)]) == sorted(
        [epr[cam], xaddr[cam]] for cam in served.values()
    )  # every camera said Hello once as the serve started
    first = next(iter(epr))
    assert heard[len(served) :] == [["bye", epr[first]], ["hello", epr[first], xaddr[first]]]
