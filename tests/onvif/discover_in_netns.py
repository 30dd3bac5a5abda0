"""Run inside a fresh network namespace (`unshare -n`, by test_discovery.py): serve the tiny
cameras with multicast discovery on a veth pair inside the namespace (HOST: the WSDiscovery
package probes from every address but loopback ones), then find them with the package's
multicast Probe and with ZoneMinder's `zmonvif-probe.pl probe`, and hear (the package's
listener) the cameras' Hellos at start and one camera's Bye and Hello as it goes down and
comes back; print what each found as JSON.
Nothing leaves the namespace: it has no link to any other.

Usage: python -m tests.onvif.discover_in_netns CLIP_CACHE_DIR
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from wsdiscovery import QName
from wsdiscovery.discovery import ThreadedWSDiscovery

from simulator.model.city import City
from simulator.onvif.server import OnvifDevices, OnvifOptions
from simulator.scenario import load_scenario
from simulator.streams.applier import fault_event
from simulator.streams.server import CameraServer, ServeOptions
from tests.streams.conftest import TINY, LoopThread

HOST = "10.99.0.1"  # the namespace's own LAN, on a veth pair
NVT = QName("http://www.onvif.org/ver10/network/wsdl", "NetworkVideoTransmitter", "dn")


def main(clips: Path) -> None:
    for cmd in (
        "ip link set lo up",
        "ip link add lan0 type veth peer name lan1",
        f"ip addr add {HOST}/24 dev lan0",
        "ip link set lan1 up",
        "ip link set lan0 up",
        "ip route add 239.0.0.0/8 dev lan0",
    ):
        subprocess.run(cmd.split(), check=True)
    opts = ServeOptions(host=HOST, rtsp_port=0, cache_dir=clips, loop_seconds=2.0, progress=False)
    city = City.of(load_scenario(TINY))
    cameras = CameraServer(city, city.select(), opts)
    cameras.build_clips()
    devices = OnvifDevices(cameras, OnvifOptions(port=0, discovery_port=0, multicast=True))
    thread = LoopThread()

    async def start() -> None:
        await cameras.start()
        await devices.start()

    heard: list[list[str]] = []  # ["hello", EPR, XAddr] or ["bye", EPR], as they came
    wsd = ThreadedWSDiscovery()
    wsd.setRemoteServiceHelloCallback(lambda s: heard.append(["hello", s.getEPR(), *s.getXAddrs()]))
    wsd.setRemoteServiceByeCallback(lambda epr: heard.append(["bye", epr]))
    wsd.start()
    thread.run(start())
    found: dict[str, object] = {"served": {d.device_xaddr: d.id for d in devices.devices},
                                "epr": {d.id: d.uuid for d in devices.devices}}  # fmt: skip
    try:
        services = wsd.searchServices(types=[NVT], timeout=1)
        found["wsdiscovery"] = sorted(x for s in services for x in s.getXAddrs())
        first = devices.devices[0].id
        for kind in ("camera_down", "camera_up"):  # a Bye, then a Hello again
            event = fault_event(kind, first, "", {})
            thread.call(lambda e=event: cameras.faults.apply(e, thread.loop.time()))
            time.sleep(0.5)
        found["heard"] = heard
    finally:
        wsd.stop()
    probe = shutil.which("zmonvif-probe.pl")
    if probe:
        out = subprocess.run([probe, "probe", "1.2"], capture_output=True, text=True,
                             timeout=30, cwd="/tmp")  # fmt: skip
        found["zoneminder"] = out.stdout.splitlines()
    r = devices.responder
    found["probes"] = thread.call(lambda: (r.probes, r.sent, r.dropped))
    print(json.dumps(found))
    time.sleep(0.1)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
