"""Benchmark of the cameras as ONVIF devices: discovery and a VMS-like poll of every camera.

A child process serves the scenario's cameras (RTSP and ONVIF, with --user/--password, so
every SOAP request carries a WS-UsernameToken digest) on 127.0.0.1; this process then
(1) sends one unicast WS-Discovery Probe and times the ProbeMatches of every camera, and
(2) polls every camera `--rounds` times like a VMS (GetProfiles, GetStreamUri,
GetSnapshotUri, then GET the snapshot), `--concurrency` cameras at once, and prints the p50,
p99 and worst latency of the SOAP calls and of the snapshots, and the server's CPU time;
(3) holds `--subscriptions` PullPoint subscriptions (one per camera by default), each
long-polled with PullMessages, measures the serve's CPU while they wait, injects a
camera_down and a camera_up on every camera through the control API and checks that each
subscription received its camera's SignalLoss true and false exactly once, with the latency
from the injection to the message.

Quick run:  python benchmarks/bench_onvif.py --cameras 50 --rounds 2
Full run:   python benchmarks/bench_onvif.py   (Strasbourg's 450 cameras, 10 rounds)
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).parents[1]
USER, PASSWORD = "bench", "bench-pass"
ENV = "http://www.w3.org/2003/05/soap-envelope"


def serve(scenario: str, cameras: int) -> None:
    """The child: serve, print the ONVIF ports as one JSON line, run until stdin closes."""
    sys.path.insert(0, str(ROOT))
    from simulator.model.city import City
    from simulator.onvif.server import OnvifDevices, OnvifOptions
    from simulator.scenario import load_scenario
    from simulator.streams.api import start_api
    from simulator.streams.http import ApiAuth
    from simulator.streams.server import CameraServer, ServeOptions

    async def main() -> None:
        city = City.of(load_scenario(Path(scenario)))
        opts = ServeOptions(rtsp_port=0, progress=False, user=USER, password=PASSWORD)
        server = CameraServer(city, city.select(str(cameras)), opts)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, server.build_clips)
        await server.start()
        devices = OnvifDevices(server, OnvifOptions(port=0, discovery_port=0, multicast=False))
        await devices.start()
        auth = ApiAuth.new("127.0.0.1")
        api, api_port = await start_api(server, "127.0.0.1", 0, auth)
        ports = {d.id: d.port for d in devices.devices}
        print(json.dumps({"ports": ports, "discovery": devices.discovery_port,
                          "api": api_port, "token": auth.token}), flush=True)  # fmt: skip
        await loop.run_in_executor(None, sys.stdin.read)
        api.close()
        await devices.stop()
        await server.stop()

    asyncio.run(main())


def token() -> str:
    nonce = os.urandom(16)
    created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    digest = base64.b64encode(hashlib.sha1(nonce + created.encode() + PASSWORD.encode()).digest())
    ns = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-"
    return (
        f'<s:Header><w:Security xmlns:w="{ns}wssecurity-secext-1.0.xsd" '
        f'xmlns:u="{ns}wssecurity-utility-1.0.xsd"><w:UsernameToken><w:Username>{USER}'
        f'</w:Username><w:Password Type="{ns}username-token-profile-1.0#PasswordDigest">'
        f"{digest.decode()}</w:Password><w:Nonce>{base64.b64encode(nonce).decode()}</w:Nonce>"
        f"<u:Created>{created}</u:Created></w:UsernameToken></w:Security></s:Header>"
    )


def envelope(body: str) -> bytes:
    return (
        f'<s:Envelope xmlns:s="{ENV}" xmlns:trt="http://www.onvif.org/ver10/media/wsdl" '
        'xmlns:tev="http://www.onvif.org/ver10/events/wsdl" '
        'xmlns:wsnt="http://docs.oasis-open.org/wsn/b-2" '
        f'xmlns:tt="http://www.onvif.org/ver10/schema">{token()}<s:Body>{body}</s:Body>'
        "</s:Envelope>"
    ).encode()


CALLS = [
    "<trt:GetProfiles/>",
    "<trt:GetStreamUri><trt:StreamSetup><tt:Stream>RTP-Unicast</tt:Stream><tt:Transport>"
    "<tt:Protocol>RTSP</tt:Protocol></tt:Transport></trt:StreamSetup>"
    "<trt:ProfileToken>main</trt:ProfileToken></trt:GetStreamUri>",
    "<trt:GetSnapshotUri><trt:ProfileToken>main</trt:ProfileToken></trt:GetSnapshotUri>",
]


async def poll(ports: dict[str, int], rounds: int, concurrency: int) -> tuple[list, list]:
    import aiohttp

    soap, snaps = [], []
    gate = asyncio.Semaphore(concurrency)
    # one digest state per camera, as a VMS keeps: a shared one's nonce counts would reach
    # the cameras out of order, which they refuse as replays
    digests = {p: aiohttp.DigestAuthMiddleware(USER, PASSWORD) for p in ports.values()}
    async with aiohttp.ClientSession() as http:

        async def camera(port: int) -> None:
            async with gate:
                url = f"http://127.0.0.1:{port}/onvif/media_service"
                for call in CALLS:
                    t0 = time.perf_counter()
                    async with http.post(url, data=envelope(call)) as r:
                        text = await r.text()
                    soap.append(time.perf_counter() - t0)
                    assert r.status == 200, text[:300]
                t0 = time.perf_counter()
                snap = f"http://127.0.0.1:{port}/onvif/snapshot/main.jpg"
                async with http.get(snap, middlewares=(digests[port],)) as r:
                    body = await r.read()
                snaps.append(time.perf_counter() - t0)
                assert r.status == 200 and body[:2] == b"\xff\xd8", r.status

        for _ in range(rounds):
            await asyncio.gather(*(camera(p) for p in ports.values()))
    return soap, snaps


LOSS = "tns1:VideoSource/SignalLoss"
PULL = (
    "<tev:PullMessages><tev:Timeout>PT10S</tev:Timeout><tev:MessageLimit>100</tev:MessageLimit>"
    "</tev:PullMessages>"
)


async def events(ready: dict, subscriptions: int, pid: int) -> None:
    """Hold the subscriptions, inject camera_down and camera_up on every camera, check each
    subscription saw both once, and print the figures."""
    import xml.etree.ElementTree as ET

    import aiohttp

    ports: dict[str, int] = ready["ports"]
    cams = list(ports)
    got: dict[int, list[tuple[str, float]]] = {i: [] for i in range(subscriptions)}
    sent: dict[tuple[str, str], float] = {}  # (camera, true|false) → when injected
    stop = asyncio.Event()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:

        async def soap(url: str, body: str) -> ET.Element:
            async with http.post(url, data=envelope(body)) as r:
                text = await r.text()
            assert r.status == 200, text[:300]
            return ET.fromstring(text)

        async def holder(i: int, cam: str) -> None:
            base = f"http://127.0.0.1:{ports[cam]}"
            made = await soap(f"{base}/onvif/event_service", "<tev:CreatePullPointSubscription/>")
            url = next(made.iter("{http://www.w3.org/2005/08/addressing}Address")).text or ""
            while not stop.is_set():
                answer = await soap(url, PULL)
                now = time.perf_counter()
                for m in answer.iter("{http://docs.oasis-open.org/wsn/b-2}NotificationMessage"):
                    topic = next(m.iter("{http://docs.oasis-open.org/wsn/b-2}Topic")).text
                    msg = next(m.iter("{http://www.onvif.org/ver10/schema}Message"))
                    if topic == LOSS and msg.get("PropertyOperation") == "Changed":
                        value = [x.get("Value") for x in msg.iter() if x.get("Name") == "State"]
                        got[i].append((value[0] or "", now))
            await soap(url, "<wsnt:Unsubscribe/>")

        async def inject(cam: str, kind: str) -> None:
            url = f"http://127.0.0.1:{ready['api']}/api/cameras/{cam}/faults"
            head = {"Authorization": f"Bearer {ready['token']}"}
            sent[(cam, "true" if kind == "camera_down" else "false")] = time.perf_counter()
            async with http.post(url, json={"kind": kind}, headers=head) as r:
                assert r.status == 202, await r.text()

        owner = {i: cams[i % len(cams)] for i in range(subscriptions)}
        tasks = [asyncio.create_task(holder(i, c)) for i, c in owner.items()]
        await asyncio.sleep(3)  # subscribed, the Initialized messages pulled
        cpu0, t0 = _cpu(pid), time.perf_counter()
        await asyncio.sleep(5)
        idle = (_cpu(pid) - cpu0) / (time.perf_counter() - t0)
        rss = _rss(pid)
        for kind in ("camera_down", "camera_up"):
            await asyncio.gather(*(inject(c, kind) for c in cams))
            await asyncio.sleep(2)
        stop.set()
        await asyncio.gather(*tasks)  # each ends at its next answer (its PT10S at most)
    late = [at - sent[(owner[i], v)] for i, seen in got.items() for v, at in seen]
    wrong = [i for i, seen in got.items() if [v for v, _ in seen] != ["true", "false"]]
    print(
        f"events: {subscriptions} PullPoint subscriptions held on {len(cams)} cameras, "
        f"long-polled (PT10S); serve CPU while they wait {100 * idle:.1f} % of a core, "
        f"RSS {rss / 2**20:.0f} MiB"
    )
    print(
        f"  injected {2 * len(cams)} events (camera_down, camera_up on each camera): "
        f"{len(late)} SignalLoss messages of {2 * subscriptions} expected, "
        f"{len(wrong)} subscriptions not exactly [true, false]"
    )
    if late:
        print(
            f"  injection → message  p50 {pct(late, 0.5):6.1f} ms  p99 {pct(late, 0.99):6.1f} ms"
            f"  max {max(late) * 1000:6.1f} ms"
        )


def discover(port: int, expected: int) -> tuple[int, float]:
    probe = (
        f'<s:Envelope xmlns:s="{ENV}" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing"'
        ' xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery"><s:Header><a:MessageID>'
        "urn:uuid:0f5d3c4e-0000-4000-8000-000000000001</a:MessageID></s:Header><s:Body>"
        '<d:Probe><d:Types xmlns:dn="http://www.onvif.org/ver10/network/wsdl">'
        "dn:NetworkVideoTransmitter</d:Types></d:Probe></s:Body></s:Envelope>"
    ).encode()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(3)
        t0 = time.perf_counter()
        sock.sendto(probe, ("127.0.0.1", port))
        got, last = 0, 0.0
        while got < expected:
            try:
                sock.recvfrom(65536)
            except TimeoutError:
                break
            got, last = got + 1, time.perf_counter() - t0
    return got, last


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default=str(ROOT / "scenarios" / "strasbourg.yaml"))
    ap.add_argument("--cameras", type=int, default=450)
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--subscriptions", type=int, default=None,
                    help="PullPoint subscriptions held (one per camera; 0: none)")  # fmt: skip
    ap.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.serve:
        serve(a.scenario, a.cameras)
        return
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--scenario", a.scenario, "--cameras",
         str(a.cameras)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        ready = json.loads(child.stdout.readline())  # type: ignore[union-attr]
        ports = ready["ports"]
        cpu0 = _cpu(child.pid)
        got, seconds = discover(ready["discovery"], len(ports))
        print(f"discovery: {got} of {len(ports)} cameras answered one probe in {seconds:.2f} s")
        t0 = time.perf_counter()
        soap, snaps = asyncio.run(poll(ports, a.rounds, a.concurrency))
        wall = time.perf_counter() - t0
        cpu = _cpu(child.pid) - cpu0
        print(
            f"poll: {len(ports)} cameras x {a.rounds} rounds, {a.concurrency} at once, "
            f"{wall:.1f} s; server CPU {cpu:.1f} s ({100 * cpu / wall:.0f} % of a core)"
        )
        for name, xs in (("SOAP", soap), ("snapshot", snaps)):
            print(
                f"  {name:9s} n={len(xs):5d}  p50 {pct(xs, 0.5):6.1f} ms  "
                f"p99 {pct(xs, 0.99):6.1f} ms  max {max(xs) * 1000:6.1f} ms"
            )
        n = len(ports) if a.subscriptions is None else a.subscriptions
        if n:
            asyncio.run(events(ready, n, child.pid))
    finally:
        child.stdin.close()  # type: ignore[union-attr]
        child.wait(30)


def _rss(pid: int) -> int:
    """Resident bytes of a process."""
    pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE")


def _cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


if __name__ == "__main__":
    main()
