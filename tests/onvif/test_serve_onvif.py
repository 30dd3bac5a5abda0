"""`camsim serve --onvif` as a user runs it: discovered, probed by ZoneMinder, described by
Home Assistant's library, its events pulled while a camera_down and camera_up are injected
through the control API and while its timeline replays a freeze, stopped by Ctrl-C; a port
range past 65535 is one line, exit 2."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from tests.onvif.conftest import PASSWORD, USER
from tests.onvif.test_clients import _describe
from tests.onvif.test_discovery import unicast_probe
from tests.onvif.test_events import LOSS, TAMPER, inject, pull, with_pullpoint
from tests.onvif.test_zoneminder_probe import probe
from tests.streams.conftest import TINY
from tests.streams.test_api_auth import call

CAMSIM = [sys.executable, "-c", "from simulator.cli import main; main()"]


def test_serve_onvif_end_to_end(onvif_clips: Path, tmp_path: Path) -> None:
    timeline = tmp_path / "faults.jsonl"  # replayed once POST /api/timeline/start
    timeline.write_text('{"t": 0.2, "kind": "stream_freeze", "camera": "mjpegcam-001", '
                        '"params": {"duration_s": 0.5}}\n')  # fmt: skip
    cmd = [*CAMSIM, "serve", str(TINY), "--rtsp-port", "0", "--api-port", "0",
           "--cache", str(onvif_clips), "--loop-seconds", "2", "--quiet",
           "--timeline", str(timeline), "--wait-start",
           "--cameras", "h264cam-001,mjpegcam-001", "--user", USER, "--password", PASSWORD,
           "--onvif", "--onvif-port", "0"]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None and proc.stdout is not None
        seen = []
        for line in proc.stderr:
            seen.append(line)
            if "ONVIF devices" in line:
                break
        found = re.search(r"WS-Discovery unicast UDP (\d+)", line)
        assert found, "".join(seen)[-2000:]
        ready = json.loads(proc.stdout.readline())
        assert ready["camsim"] == "ready"
        matches = unicast_probe(int(found.group(1)))
        scopes = {m.getXAddrs()[0]: [s.getValue() for s in m.getScopes()] for m in matches}
        assert len(scopes) == 2
        by_name = {
            next(s.rsplit("/", 1)[1] for s in v if "/name/" in s): xaddr
            for xaddr, v in scopes.items()
        }
        rows = probe(by_name["h264cam-001"], "1.2")
        assert [r[:6] for r in rows[::2]] == [
            ["main", "main", "H264", "320", "180", "10"],
            ["sub", "sub", "H264", "160", "96", "5"],
        ]
        assert rows[0][7].startswith(ready["rtsp"]) and rows[0][7].endswith("h264cam-001/main")
        port = int(by_name["mjpegcam-001"].split(":")[2].split("/")[0])
        cam = asyncio.run(_describe(port, USER, PASSWORD))
        assert cam["info"].SerialNumber == "mjpegcam-001"
        assert cam["profiles"]["main"]["snapshot"][:2] == b"\xff\xd8"
        api = SimpleNamespace(api_port=ready["api_port"], token=ready["token"])

        async def events(cam: Any, manager: Any, pp: Any) -> list:
            got = [await pull(pp, 1)]
            for kind in ("camera_down", "camera_up"):  # through the control API
                await asyncio.to_thread(inject, api, "mjpegcam-001", kind)
                got.append(await pull(pp, 5))
            start = f"http://127.0.0.1:{api.api_port}/api/timeline/start"
            await asyncio.to_thread(call, start, {}, f"Bearer {api.token}")
            got += [await pull(pp, 5), await pull(pp, 5)]  # the timeline's freeze
            await manager.shutdown()
            return got

        first, down, up, frozen, thawed = with_pullpoint(port, events, USER, PASSWORD)
        assert (LOSS, "Initialized", "false") in first
        assert (down, up) == ([(LOSS, "Changed", "true")], [(LOSS, "Changed", "false")])
        assert (frozen, thawed) == ([(TAMPER, "Changed", "true")], [(TAMPER, "Changed", "false")])
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 0 and "camsim serve: stopped" in err
    finally:
        if proc.poll() is None:
            proc.kill()


def test_onvif_ports_past_65535_are_one_line(onvif_clips: Path) -> None:
    cmd = [*CAMSIM, "serve", str(TINY), "--rtsp-port", "0", "--api-port", "0",
           "--cache", str(onvif_clips), "--loop-seconds", "2", "--no-faults", "--quiet",
           "--onvif", "--onvif-port", "65533"]  # fmt: skip
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert run.returncode == 2, run.stderr[-1000:]
    last = run.stderr.strip().splitlines()[-1]
    assert "65535" in last and "Traceback" not in run.stderr
