"""The soak's hostile parts (benchmarks/hostile.py, lingerers.py, viewers.py, replay.py)
against a small `camsim serve`: every request it sends gets an answer its kind expects, a slow
reader plays, a viewer times frames, a replayed digest is refused, and serve logs no
traceback. A smoke test of the benchmark's parts: no figures here."""

from __future__ import annotations

import json
import random
import selectors
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import hostile  # noqa: E402
import lingerers  # noqa: E402
import viewers  # noqa: E402

TINY = ROOT / "tests" / "streams" / "tiny.yaml"
CAMERA = "h264cam-002"


def test_hostile_requests_get_the_answers_their_kind_expects(tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "simulator.cli", "serve", str(TINY), "--rtsp-port", "0",
           "--api-port", "0", "--cache", str(tmp_path), "--loop-seconds", "2",
           "--cameras", CAMERA, "--quiet"]  # fmt: skip
    log = tmp_path / "serve.log"
    with open(log, "w", encoding="utf-8") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True)
    try:
        assert proc.stdout is not None
        ready = next(json.loads(line) for line in proc.stdout if line.startswith("{"))
        rtsp, api = ready["rtsp_port"], ready["api_port"]
        url = f"rtsp://127.0.0.1:{rtsp}/{CAMERA}/main"
        rng = random.Random(16)
        missed = []
        for _ in range(3):
            for case in hostile.rtsp_cases(rng, url) + hostile.api_cases(
                rng, CAMERA, ready["token"]
            ):
                answer = hostile.exchange(api if case.api else rtsp, case.data, timeout=0.5)
                if answer not in case.expected:
                    missed.append(f"{case.kind} ({case.label}): {answer}, not {case.expected}")
        assert not missed

        slow = lingerers.slow_reader(rtsp, url, keepalive=False, cap_s=1.0)
        assert isinstance(slow, lingerers.Lingerer), slow
        viewer = viewers.Viewer(url, CAMERA, "")
        viewer.connect(rtsp)
        assert viewer.sock is not None
        sel = selectors.DefaultSelector()
        sel.register(viewer.sock, selectors.EVENT_READ)
        t0 = time.time()
        while time.time() < t0 + 2:
            if sel.select(0.2):
                assert viewer.feed(viewer.sock.recv(1 << 16), time.time(), t0)
        assert viewer.frames >= 10 and viewer.worst and viewer.worst[0][0] < 1.0
        assert slow.step(time.monotonic()) is not None  # past its cap: read, then its fate
        slow.sock.close()
        viewer.sock.close()

        # a camera the timeline has down answers 503 to whatever reaches it: the trickle asks
        # serve's API before it counts a 503 against the server
        import trickle

        assert not trickle.offline(api, CAMERA)
        down = json.dumps({"kind": "camera_down"}).encode()
        auth = f"Authorization: Bearer {ready['token']}\r\nContent-Type: application/json\r\n"
        posted = hostile.exchange(api, hostile._http("POST", f"/api/cameras/{CAMERA}/faults",
                                                     auth, down))  # fmt: skip
        assert posted.startswith("2"), posted
        assert hostile.exchange(rtsp, hostile.rtsp("OPTIONS", url)) == "503"
        assert trickle.offline(api, CAMERA)
        assert not trickle.offline(api, "h264cam-001")  # not served: not said to be offline
    finally:
        proc.terminate()
        proc.wait(30)
    assert "Traceback" not in log.read_text(encoding="utf-8")


def test_a_captured_digest_is_refused_when_replayed(tmp_path: Path) -> None:
    import replay

    log = tmp_path / "serve-auth.log"
    proc, to = replay.start_serve(str(TINY), log, cameras=1)
    try:
        rounds = [replay.replay_round(to["port"], to["url"], to["password"]) for _ in range(2)]
    finally:
        replay.stop_serve(proc)
    got = [(kind, label, answer) for r in rounds for kind, label, answer in r]
    assert [k for k, _, _ in got] == [
        "digest replay, same connection",
        *["digest replay, other connection"] * 2,
    ] * 2, got
    assert all(answer in replay.KINDS[kind] for kind, _, answer in got), got
    assert "Traceback" not in log.read_text(encoding="utf-8")


def test_a_viewer_gap_is_put_to_whoever_held_it_up(tmp_path: Path) -> None:
    import soak_gaps

    log = tmp_path / "serve.log"
    log.write_text(
        "camsim: loop stalled 0.190 s at 100.000: starved (loop thread CPU 0.050 s, waiting for "
        "a CPU 0.130 s, GC 0.000 s, other threads 0.001 s; the host's CPUs busy 93 % (stolen "
        "5 %)); samples: 3x output.py:write_tcp:80\n"
        "camsim: frames sent up to 0.250 s late in the 1.0 s to 201.000: busy (loop thread CPU "
        "0.900 s, waiting for a CPU 0.010 s, GC 0.000 s, other threads 0.000 s; the host's CPUs "
        "busy 60 % (stolen 0 %))\n",
        encoding="utf-8",
    )
    logged = soak_gaps.serve_stalls(log)
    assert [(x["kind"], x["cause"], x["host"]) for x in logged] == [
        ("stall", "starved", "93"),
        ("late", "busy", "60"),
    ]

    def gap(start: float, send_gap: float) -> dict:
        return {"start": start, "end": start + 0.22, "gap": 0.22, "send_gap": send_gap}

    assert soak_gaps.cause(gap(100.05, 0.05), logged, []) == "serve stalled: starved"
    assert soak_gaps.cause(gap(100.05, 0.05), logged, [[100.2, 0.21, 0.0]]) == "viewers' process"
    assert soak_gaps.cause(gap(200.5, 0.21), logged, []) == "serve late: busy"
    assert soak_gaps.cause(gap(300.0, 0.21), logged, []) == "serve late, nothing logged"
    assert soak_gaps.cause(gap(300.0, 0.04), logged, []) == "delivery"
