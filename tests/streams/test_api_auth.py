"""The control API's credentials: every state-changing request needs serve's --user/--password
(HTTP Basic) or the bearer token of its ready line; reads are open on loopback only; serve
refuses a non-loopback --host without --user/--password."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

from simulator.streams.http import ApiAuth, is_loopback

TINY = Path(__file__).with_name("tiny.yaml")
CAMSIM = [sys.executable, "-c", "from simulator.cli import main; main()"]


def call(url: str, body: dict | None = None, auth: str | None = None) -> tuple[int, Any, Any]:
    """(status, JSON answer, WWW-Authenticate headers) of a GET, or a POST of `body`."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data)
    if auth is not None:
        req.add_header("Authorization", auth)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read()), r.headers.get_all("WWW-Authenticate")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read()), e.headers.get_all("WWW-Authenticate")


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_faults_need_the_token_and_reads_stay_open_on_loopback(fresh) -> None:  # noqa: ANN001
    api = f"http://127.0.0.1:{fresh.api_port}"
    faults = f"{api}/api/cameras/h264cam-001/faults"
    freeze = {"kind": "stream_freeze", "duration_s": 60}
    for auth in (None, "Bearer wrong", f"Bearer {fresh.token}x", "Basic !!", basic("a", "b"),
                 f"Token {fresh.token}", "Bearer"):  # fmt: skip
        status, answer, challenges = call(faults, freeze, auth)
        assert status == 401 and "credentials" in answer["error"], auth
        assert challenges == ['Bearer realm="camsim"']  # no Basic: serve has no --user
    assert fresh.server.states["h264cam-001"].freeze_until == 0.0  # nothing applied
    assert call(faults, freeze, f"Bearer {fresh.token}")[0] == 202
    assert call(faults, freeze, f"bearer {fresh.token}")[0] == 202  # the scheme in any case
    assert call(f"{api}/api/cameras")[0] == 200
    assert call(f"{api}/api/health")[0] == 200


def test_timeline_start_needs_credentials(fresh) -> None:  # noqa: ANN001
    start = f"http://127.0.0.1:{fresh.api_port}/api/timeline/start"
    assert call(start, {})[0] == 401
    assert not fresh.server.replay.started
    assert call(start, {}, f"Bearer {fresh.token}")[0:2] == (202, {"started": True,
                                                                 "already": False})  # fmt: skip


def test_serve_credentials_work_as_basic(guarded) -> None:  # noqa: ANN001
    faults = f"http://127.0.0.1:{guarded.api_port}/api/cameras/h264cam-002/faults"
    jitter = {"kind": "jitter", "ms": 5, "duration_s": 0.1}
    status, _, challenges = call(faults, jitter, basic("admin", "wrong"))
    assert status == 401 and len(challenges) == 2 and challenges[1].startswith("Basic")
    assert call(faults, jitter, basic("admin", "s3cret"))[0] == 202
    assert call(faults, jitter, f"Bearer {guarded.token}")[0] == 202


def test_reads_need_credentials_off_loopback_except_health() -> None:
    auth = ApiAuth.new("0.0.0.0", "u", "p")
    assert not auth.open_reads and auth.needed("GET", "/api/cameras")
    assert not auth.needed("GET", "/api/health")
    assert auth.allows(basic("u", "p")) and auth.allows(f"Bearer {auth.token}")
    assert not auth.allows(basic("u", "p ")) and not auth.allows(basic("u:p", ""))
    assert not auth.allows("Basic " + base64.b64encode("ü:p".encode()).decode())
    loop = ApiAuth.new("127.0.0.1")
    assert loop.open_reads and not loop.needed("GET", "/metrics") and loop.needed("PUT", "/")
    assert ApiAuth.new("::1").token != loop.token and len(loop.token) >= 40
    assert [is_loopback(h) for h in ("localhost", "127.0.0.2", "::1", "[::1]", "0.0.0.0", "",
                                     "::", "10.0.0.1", "example.org")] == [
        True, True, True, True, False, False, False, False, False]  # fmt: skip


def test_serve_refuses_a_public_host_without_credentials() -> None:
    env = {k: v for k, v in os.environ.items() if k != "CAMSIM_RTSP_PASSWORD"}
    for host in ("0.0.0.0", "::", "192.0.2.1", "example.org"):
        run = subprocess.run([*CAMSIM, "serve", str(TINY), "--host", host],
                             capture_output=True, text=True, timeout=60, env=env)  # fmt: skip
        assert run.returncode == 2, run.stderr
        assert run.stderr.startswith("camsim: error: --host") and "--user" in run.stderr
        assert len(run.stderr.strip().splitlines()) == 1


def test_the_ready_line_carries_the_token_that_opens_the_api(clip_dir: Path) -> None:
    cmd = [*CAMSIM, "serve", str(TINY), "--rtsp-port", "0", "--api-port", "0",
           "--cache", str(clip_dir), "--loop-seconds", "2", "--cameras", "h264cam-002",
           "--no-faults", "--wait-start", "--quiet"]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        ready = json.loads(proc.stdout.readline())
        api = ready["api"].rstrip("/")
        assert isinstance(ready["token"], str) and len(ready["token"]) >= 40
        assert call(f"{api}/api/timeline/start", {})[0] == 401
        status, answer, _ = call(f"{api}/api/timeline/start", {}, f"Bearer {ready['token']}")
        assert status == 202 and answer["already"] is False
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)


def test_the_lab_generator_posts_with_the_token(clip_dir: Path, tmp_path: Path) -> None:
    from simulator.lab.generator import Generator

    args = [str(TINY), "--rtsp-port", "0", "--api-port", "0", "--cache", str(clip_dir),
            "--loop-seconds", "2", "--cameras", "h264cam-002", "--no-faults",
            "--wait-start"]  # fmt: skip
    g = Generator.start(args, tmp_path / "serve.log")
    try:
        g.start_replay()
        g.inject("h264cam-002", {"kind": "jitter", "ms": 5, "duration_s": 0.1})
        assert g.get("/api/timeline")["started"] and g.applied()[-1]["kind"] == "jitter"
    finally:
        g.stop()
