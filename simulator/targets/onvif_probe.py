"""ZoneMinder's own ONVIF probe, `zmonvif-probe.pl`, as its add-monitor wizard runs it
(`skins/classic/views/onvifprobe.php`, step 2): `profiles DEVICE_URL SOAP USER PASSWORD`
lists a line per profile and stream type, `token, name, encoding, width, height, fps, type,
URI`, which the wizard turns into a monitor (Path = the URI with the credentials in it,
Method by the stream type, ControlDevice = the profile token).

`parse_profiles`, `choose`, `wizard_monitor` and `ptz_control` only read text;
`run_profiles` runs the probe, `device_answers` asks the device itself, to say whose fault
a failure is, and `ptz_xaddr` asks it whether it has PTZ (GetCapabilities: the wizard sets
no PTZ; ZoneMinder's ONVIF control type, `ZoneMinder::Control::onvif`, then moves it).
"""

from __future__ import annotations

import shutil
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

PROBE_TIMEOUT_S = 60.0
SOAP_VERSION = "1.2"  # what the wizard's discovery reports for a SOAP 1.2 device
_UNICAST = ("RTP_unicast", "RTP-Unicast")  # the spec's two spellings; the probe asks both


@dataclass(frozen=True)
class ProbeProfile:
    """One line of `zmonvif-probe.pl profiles`: a profile and a stream type's URI."""

    token: str
    name: str
    encoding: str
    width: int
    height: int
    fps: int
    stream_type: str
    uri: str


@dataclass(frozen=True)
class ProbeRun:
    """What one `profiles` run said and how long it took."""

    device_url: str
    seconds: float
    returncode: int
    profiles: list[ProbeProfile]
    said: str  # the last of its stdout and stderr that is not a profile line


def parse_profiles(stdout: str) -> list[ProbeProfile]:
    """The profile lines of the probe's output, as the wizard's pattern reads them (a line
    of 8 comma-separated fields, the 4th to 6th numbers); other lines are ignored."""
    out = []
    for line in stdout.splitlines():
        parts = [p.strip() for p in line.rstrip().split(",", 7)]
        if len(parts) != 8 or not all(p.isdigit() for p in parts[3:6]) or not parts[7]:
            continue
        token, name, enc, w, h, fps, kind, uri = parts
        out.append(ProbeProfile(token, name, enc, int(w), int(h), int(fps), kind, uri))
    return out


def choose(profiles: list[ProbeProfile]) -> ProbeProfile | None:
    """The profile a user picks for recording: the first the device lists (ONVIF devices
    list their main stream first; not the most pixels: a sub stream may be larger), its
    unicast RTSP line (`RTP_unicast` before `RTP-Unicast`: the wizard records the former over
    RTSP's TCP connection, the latter over UDP)."""
    unicast = [p for p in profiles if p.stream_type in _UNICAST]
    if not unicast:
        return None
    first = [p for p in unicast if p.token == unicast[0].token]
    return min(first, key=lambda p: _UNICAST.index(p.stream_type))


def wizard_method(stream_type: str) -> str:
    """The monitor's Method the wizard sets for a stream type."""
    return {"RTP-Multicast": "rtpMulti", "RTP-Unicast": "rtpUni"}.get(stream_type, "rtpRtsp")


def with_credentials(uri: str, user: str, password: str) -> str:
    """The URI with `user:password@` after the scheme, as the wizard writes it (not when
    there is no user: the wizard would write a bare `:@`)."""
    scheme, sep, rest = uri.partition("://")
    if not user or not sep:
        return uri
    return f"{scheme}://{user}:{password}@{rest}"


def wizard_monitor(p: ProbeProfile, device_url: str, user: str, password: str,
                   soap: str = SOAP_VERSION) -> dict[str, Any]:  # fmt: skip
    """The monitor fields the wizard sets from a probed profile (not its ConfigURL and
    ConfigOptions: 1.36's Monitors table has no such columns) and the ONVIF fields of a 1.36
    monitor, which `zmonvif-trigger.pl` reads. ONVIF_Options says the SOAP version as that
    script matches it, /SOAP1([12])/: `SOAP12` (the wizard's `SOAP1.2` would read as 1.1)."""
    return {
        "Path": with_credentials(p.uri, user, password),
        "Width": p.width,
        "Height": p.height,
        "Method": wizard_method(p.stream_type),
        "ControlDevice": p.token,  # the profile token, which ONVIF PTZ control needs
        "ONVIF_URL": device_url,
        "ONVIF_Username": user,
        "ONVIF_Password": password,
        "ONVIF_Options": "SOAP" + soap.replace(".", ""),
    }


def ptz_control(control_id: int, ptz_url: str, token: str, user: str,
                password: str) -> dict[str, Any]:  # fmt: skip
    """The monitor fields that give a PTZ camera ZoneMinder's ONVIF control (the Controls
    row of protocol `onvif`): its PTZ service as the control address (credentials in it, as
    `ZoneMinder::Control::onvif` reads them) and the profile token as the control device."""
    return {
        "Controllable": 1,
        "ControlId": control_id,
        "ControlDevice": token,
        "ControlAddress": with_credentials(ptz_url, user, password),
    }


def probe_path() -> str | None:
    """Where zmonvif-probe.pl is (ZoneMinder's bin directory), or None."""
    return shutil.which("zmonvif-probe.pl") or shutil.which("/usr/bin/zmonvif-probe.pl")


def run_profiles(
    probe: str, device_url: str, user: str, password: str, soap: str = SOAP_VERSION,
    timeout_s: float = PROBE_TIMEOUT_S,
) -> ProbeRun:  # fmt: skip
    """Run `zmonvif-probe.pl profiles` on one device (in /tmp: it writes nothing, but the
    Perl modules must not see the caller's directory)."""
    cmd = [probe, "profiles", device_url, soap, user, password]
    t0 = time.perf_counter()
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s,
                              cwd="/tmp")  # fmt: skip
    except subprocess.TimeoutExpired:
        return ProbeRun(device_url, time.perf_counter() - t0, -1, [],
                        f"no answer in {timeout_s:g} s")  # fmt: skip
    seconds = time.perf_counter() - t0
    profiles = parse_profiles(done.stdout)
    rest = [ln for ln in (done.stdout + "\n" + done.stderr).splitlines()
            if ln.strip() and ln.count(", ") != 7]  # fmt: skip
    return ProbeRun(device_url, seconds, done.returncode, profiles, " | ".join(rest)[-300:])


_SOAP = (
    '<?xml version="1.0" encoding="UTF-8"?><s:Envelope '
    'xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>{}</s:Body></s:Envelope>'
)
_DATE = _SOAP.format('<GetSystemDateAndTime xmlns="http://www.onvif.org/ver10/device/wsdl"/>')
_CAPS = _SOAP.format('<GetCapabilities xmlns="http://www.onvif.org/ver10/device/wsdl">'
                     "<Category>All</Category></GetCapabilities>")  # fmt: skip
_TT = "{http://www.onvif.org/ver10/schema}"


def _post(url: str, body: str, timeout_s: float) -> bytes:
    req = urllib.request.Request(url, body.encode(), method="POST")
    req.add_header("Content-Type", "application/soap+xml; charset=utf-8")
    with urllib.request.urlopen(req, timeout=timeout_s) as r:
        return r.read(1 << 20)


def ptz_xaddr(device_url: str, timeout_s: float = 10.0) -> str | None:
    """The device's PTZ service address, as its GetCapabilities says (None: no PTZ).
    OSError when it does not answer, ValueError when the answer is not ONVIF XML."""
    from defusedxml.ElementTree import fromstring  # the onvif extra, as serve --onvif

    try:
        root = fromstring(_post(device_url, _CAPS, timeout_s))
    except (SyntaxError, ValueError) as exc:  # ParseError, DTD and entity refusals
        raise ValueError(f"GetCapabilities: not XML: {exc}") from None
    addr = root.find(f".//{_TT}PTZ/{_TT}XAddr")
    return addr.text.strip() if addr is not None and addr.text else None


def device_answers(device_url: str, timeout_s: float = 5.0) -> str | None:
    """None when the device service answers GetSystemDateAndTime (no credentials needed,
    ONVIF Core 5.9.4.1), else what went wrong: a failed probe of a device that answers is
    the probe's (the target's) fault, of one that does not the camera's (the harness's)."""
    try:
        body = _post(device_url, _DATE, timeout_s)
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code}"
    except OSError as exc:
        return str(exc)
    return None if b"SystemDateAndTime" in body else "no SystemDateAndTime in its answer"
