"""WS-Discovery (2005/04) for the served cameras: every camera answers a Probe.

A Probe (SOAP 1.2 or 1.1, unicast to the responder's port, or multicast to
239.255.255.250:3702 when the responder joined the group) gets a ProbeMatches per matching
camera: types dn:NetworkVideoTransmitter and tds:Device, its scopes and XAddrs. Types match
by local name; scopes by RFC 3986 prefix (the default MatchBy). A probe is at most
MAX_PROBE bytes; the matches go out one datagram per camera, GAP_S apart (from
MULTICAST_DELAY_S after a multicast probe), and at most
MAX_BURSTS probes are answered at once (more are dropped: no amplification); a probe repeated
with the same MessageID (UDP senders repeat theirs) is answered once.

Where the responder joined the multicast group, each camera also announces itself: a Hello
to the group when the serve starts and when the camera comes back (camera_up), a Bye when
it goes (camera_down), paced GAP_S apart; at most one announcement per camera is pending
(the latest wins), so a storm of ups and downs costs nothing unbounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import uuid
from collections import deque
from collections.abc import Sequence
from xml.sax.saxutils import escape

from simulator.onvif.devices import Device
from simulator.onvif.soap import SoapFault, child, parse, text
from simulator.timeline.event import Event

GROUP = "239.255.255.250"
PORT = 3702
MAX_PROBE = 16 * 1024
GAP_S = 0.002  # between two cameras' answers to one probe: 450 cameras in 0.9 s
# before the first answer to a multicast probe (WS-Discovery: a random wait up to 500 ms;
# ZoneMinder's probe opens its listening socket only after sending)
MULTICAST_DELAY_S = 0.05
MAX_BURSTS = 4
RECENT = 256  # probes' message ids remembered, so a repeated probe is answered once
WSA = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
WSD = "http://schemas.xmlsoap.org/ws/2005/04/discovery"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
TYPES = {"NetworkVideoTransmitter", "Device"}


def matches(dev: Device, types: Sequence[str], scopes: Sequence[str]) -> bool:
    """Whether a camera matches a Probe's types (QNames) and scopes."""
    if any(t.rpartition(":")[2] not in TYPES for t in types):
        return False
    have = dev.scopes()
    return all(any(d == s or d.startswith(s.rstrip("/") + "/") for d in have) for s in scopes)


def announcement(dev: Device, hello: bool, number: int) -> bytes:
    """A camera's Hello (with its types, scopes and XAddrs) or Bye, to the group (SOAP 1.2)."""
    kind = "Hello" if hello else "Bye"
    body = (
        "<d:Types>dn:NetworkVideoTransmitter tds:Device</d:Types>"
        f"<d:Scopes>{escape(' '.join(dev.scopes()))}</d:Scopes>"
        f"<d:XAddrs>{escape(dev.device_xaddr)}</d:XAddrs>"
        "<d:MetadataVersion>1</d:MetadataVersion>"
        if hello
        else ""
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><env:Envelope '
        f'xmlns:env="{SOAP12}" xmlns:wsa="{WSA}" xmlns:d="{WSD}" '
        'xmlns:dn="http://www.onvif.org/ver10/network/wsdl" '
        'xmlns:tds="http://www.onvif.org/ver10/device/wsdl"><env:Header>'
        f"<wsa:MessageID>urn:uuid:{uuid.uuid4()}</wsa:MessageID>"
        f"<wsa:To>urn:schemas-xmlsoap-org:ws:2005:04:discovery</wsa:To>"
        f"<wsa:Action>{WSD}/{kind}</wsa:Action>"
        f'<d:AppSequence InstanceId="1" MessageNumber="{number}"/></env:Header><env:Body>'
        f"<d:{kind}><wsa:EndpointReference><wsa:Address>{dev.uuid}</wsa:Address>"
        f"</wsa:EndpointReference>{body}</d:{kind}></env:Body></env:Envelope>"
    ).encode()


def probe_matches(dev: Device, soap: str, relates_to: str, number: int) -> bytes:
    """The ProbeMatches of one camera, answering the probe `relates_to`."""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><env:Envelope xmlns:env="{soap}" '
        f'xmlns:wsa="{WSA}" xmlns:d="{WSD}" xmlns:dn="http://www.onvif.org/ver10/network/wsdl" '
        'xmlns:tds="http://www.onvif.org/ver10/device/wsdl"><env:Header>'
        f"<wsa:MessageID>urn:uuid:{uuid.uuid4()}</wsa:MessageID>"
        f"<wsa:RelatesTo>{escape(relates_to)}</wsa:RelatesTo>"
        f"<wsa:To>{WSA}/role/anonymous</wsa:To>"
        f"<wsa:Action>{WSD}/ProbeMatches</wsa:Action>"
        f'<d:AppSequence InstanceId="1" MessageNumber="{number}"/></env:Header><env:Body>'
        f"<d:ProbeMatches><d:ProbeMatch><wsa:EndpointReference><wsa:Address>{dev.uuid}"
        "</wsa:Address></wsa:EndpointReference><d:Types>dn:NetworkVideoTransmitter tds:Device"
        f"</d:Types><d:Scopes>{escape(' '.join(dev.scopes()))}</d:Scopes>"
        f"<d:XAddrs>{escape(dev.device_xaddr)}</d:XAddrs>"
        "<d:MetadataVersion>1</d:MetadataVersion></d:ProbeMatch></d:ProbeMatches>"
        "</env:Body></env:Envelope>"
    ).encode()


class Responder(asyncio.DatagramProtocol):
    """Answers Probes for a set of cameras."""

    def __init__(self, devices: Sequence[Device]) -> None:
        self.devices = list(devices)
        self.transport: asyncio.DatagramTransport | None = None
        self.bursts = 0
        self.sent = 0
        self.probes = 0
        self.dropped = 0
        self.recent: deque[str] = deque(maxlen=RECENT)  # message ids answered lately
        self.tasks: set[asyncio.Task] = set()
        self.announcing = False  # Hello and Bye go to the group (the group was joined)
        self.pending: dict[str, bool] = {}  # camera → Hello (True) or Bye, latest wins
        self.announced = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple, delay: float = 0.0) -> None:
        if len(data) > MAX_PROBE or self.bursts >= MAX_BURSTS:
            self.dropped += 1
            return
        try:
            req = parse(data)
        except SoapFault:
            self.dropped += 1
            return
        ns, name = req.name
        if ns != WSD or name != "Probe":
            self.dropped += 1  # Hello, Bye, Resolve, answers of others: not ours to answer
            return
        relates = text(req.header, "MessageID") or ""
        if relates in self.recent:  # a repeat of a probe (UDP senders send each twice)
            return
        self.recent.append(relates)
        self.probes += 1
        types = (text(req.action, "Types") or "").split()
        scopes = (text(req.action, "Scopes") or "").split()
        scope_el = child(req.action, "Scopes")
        if scope_el is not None and scope_el.get("MatchBy") not in (None, f"{WSD}/rfc3986"):
            return  # another matching rule: no camera claims to match it
        found = [d for d in self.devices if matches(d, types, scopes)]
        if found:
            self.bursts += 1
            task = asyncio.get_running_loop().create_task(
                self._answer(found, req.soap, relates, addr, delay)
            )
            self.tasks.add(task)  # held while it runs (at most MAX_BURSTS)
            task.add_done_callback(self.tasks.discard)

    def announce(self, camera: str, hello: bool) -> None:
        """Queue a camera's Hello or Bye to the group (nothing unless announcing)."""
        if not self.announcing or not any(d.id == camera for d in self.devices):
            return
        start = not self.pending
        self.pending[camera] = hello
        if start:
            task = asyncio.get_running_loop().create_task(self._announce())
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    def observe(self, event: Event, now: float) -> None:
        """A FaultApplier observer: camera_down says Bye, camera_up says Hello."""
        if event.kind in ("camera_down", "camera_up"):
            self.announce(event.camera, event.kind == "camera_up")

    async def _announce(self) -> None:
        by_id = {d.id: d for d in self.devices}
        while self.pending:
            cam = next(iter(self.pending))
            hello = self.pending.pop(cam)
            if self.transport is None or self.transport.is_closing():
                self.pending.clear()
                return
            self.sent += 1
            self.transport.sendto(announcement(by_id[cam], hello, self.sent), (GROUP, PORT))
            self.announced += 1
            await asyncio.sleep(GAP_S)

    async def _answer(
        self, found: list[Device], soap: str, relates: str, addr: tuple, delay: float
    ) -> None:
        try:
            await asyncio.sleep(delay)
            for i, dev in enumerate(found):
                if self.transport is None or self.transport.is_closing():
                    return
                self.transport.sendto(probe_matches(dev, soap, relates, self.sent + 1), addr)
                self.sent += 1
                if i + 1 < len(found):
                    await asyncio.sleep(GAP_S)
        finally:
            self.bursts -= 1


def unicast_socket(host: str, port: int) -> socket.socket:
    """The responder's UDP socket on (host, port), shareable with a local WS-Discovery client
    (which binds the same port on all of its addresses)."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.setblocking(False)
    return sock


def multicast_socket(interface: str, port: int = PORT) -> socket.socket:
    """A UDP socket bound to the WS-Discovery group on `port`, joined on the interface
    whose IPv4 address is `interface` (bound to the group: unicast to other addresses of the
    host never reaches it)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    with contextlib.suppress(AttributeError, OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((GROUP, port))
    mreq = struct.pack("4s4s", socket.inet_aton(GROUP), socket.inet_aton(interface))
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(interface))
    sock.setblocking(False)
    return sock


class Forward(asyncio.DatagramProtocol):
    """The multicast socket's side: its probes answered by the responder, from its unicast
    socket (an answer's source is never the group's address)."""

    def __init__(self, responder: Responder) -> None:
        self.responder = responder

    def datagram_received(self, data: bytes, addr: tuple) -> None:
        self.responder.datagram_received(data, addr, MULTICAST_DELAY_S)
