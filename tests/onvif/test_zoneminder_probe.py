"""ZoneMinder 1.36's own ONVIF probe (`zmonvif-probe.pl`, what its add-monitor wizard runs)
finds the cameras' profiles and stream URIs, over SOAP 1.2 and 1.1, with WS-UsernameToken.

ZoneMinder's Perl client deserialises every answer through the ONVIF WSDL's type map
(SOAP::WSDL): an element it does not know drops the whole answer, so this is a schema check
too. CI installs ZoneMinder (.ci/run); the probe needs no ZoneMinder daemon.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.onvif.conftest import PASSWORD, USER, Onvif

PROBE = shutil.which("zmonvif-probe.pl") or "/usr/bin/zmonvif-probe.pl"


def probe(url: str, soap: str, password: str = PASSWORD) -> list[list[str]]:
    """The probe's profile lines: token, name, encoding, width, height, fps, type, URI."""
    out = subprocess.run(
        [PROBE, "profiles", url, soap, USER, password],
        capture_output=True, text=True, timeout=60, cwd="/tmp",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-500:]
    return [line.split(", ") for line in out.stdout.splitlines() if line.count(", ") == 7]


@pytest.mark.parametrize("soap", ["1.2", "1.1"])
def test_zoneminder_probe_lists_the_profiles(onvif_guarded: Onvif, soap: str) -> None:
    dev = onvif_guarded.devices.device("h264cam-003")
    assert dev is not None
    rows = probe(dev.device_xaddr, soap)
    url = onvif_guarded.cameras.url
    assert rows == [
        ["main", "main", "H264", "320", "180", "10", kind, url("h264cam-003", "main")]
        for kind in ("RTP_unicast", "RTP-Unicast")
    ] + [
        ["sub", "sub", "H264", "160", "96", "5", kind, url("h264cam-003", "sub")]
        for kind in ("RTP_unicast", "RTP-Unicast")
    ]  # multicast refused: camsim streams unicast only


def test_zoneminder_probe_is_refused_a_wrong_password(onvif_guarded: Onvif) -> None:
    dev = onvif_guarded.devices.device("mjpegcam-001")
    assert dev is not None
    assert probe(dev.device_xaddr, "1.2", "guess") == []
    rows = probe(dev.device_xaddr, "1.2")
    assert [r[2:6] for r in rows] == [["JPEG", "320", "184", "5"]] * 2
