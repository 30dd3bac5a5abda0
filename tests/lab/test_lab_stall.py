"""A recorder that stops reading: the real target's capture process frozen (SIGSTOP) and
resumed, as CPU starvation or a blocked disk freeze it. Its connection fills, the camera
throws away what it does not take, and the verdict blames the target for the loss on the
stalled cameras alone (the harness is neither excused nor blamed). ZoneMinder: one camera's
capture stalled for 60 s (its watchdog restarts it: a gap) and another's for 30 s (under the
watchdog's 45 s, ZoneMinder keeps its event open across it: video lost inside a recording),
in one run; motion (one process for all its cameras) stopped for 60 s.

CI once saw ZoneMinder lose about 21 s on every camera of such a run, the one not stalled too
(a stall had never done that here in many runs). Whether that is ZoneMinder's own doing
(something shared by its captures) or camsim's, the test cannot tell from the verdict's
figures alone, so it prints them with ZoneMinder's log of the run and tries once more; a
second such run fails."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path

import pytest

from simulator.targets.http import FastClient
from simulator.targets.zoneminder import ZoneMinder

LAB = Path(__file__).parents[1] / "data" / "lab.yaml"
CAMSIM = [sys.executable, "-m", "simulator.cli"]
STALL_AT_S = 25.0  # after the timeline starts


def _fact(ledger: Path, sql: str, *args: object) -> object:
    try:
        with sqlite3.connect(ledger) as db:
            row = db.execute(sql, args).fetchone()
    except sqlite3.Error:
        return None
    return row[0] if row else None


def _pids(match: str) -> list[int]:
    """Processes whose command line (words joined by spaces, and a space) contains `match`."""
    out = []
    for p in Path("/proc").iterdir():
        if p.name.isdigit() and int(p.name) != os.getpid():
            try:
                cmd = (p / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if match in cmd:
                out.append(int(p.name))
    return out


def _stall_while_running(
    cmd: list[str], out: Path, stalls: dict[str, float], capture: str
) -> subprocess.CompletedProcess:
    """Run the lab; STALL_AT_S after its timeline starts, freeze the processes whose command
    line holds `capture` (formatted with a stalled camera's target id as `tid`) for as long
    as `stalls` says for that camera, then resume them."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ledger = out / "ledger.sqlite"
    stopped: dict[str, list[int]] = {}
    try:
        _stall(proc, ledger, stalls, capture, stopped)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    finally:
        for pid in (p for pids in stopped.values() for p in pids):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
    try:
        stdout, stderr = proc.communicate(timeout=600)
    finally:  # never leave a lab holding the shared target's cameras for the next test
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr)


def _stall(proc: subprocess.Popen, ledger: Path, stalls: dict[str, float], capture: str,
           stopped: dict[str, list[int]]) -> None:  # fmt: skip
    """Freeze the stalled cameras' processes STALL_AT_S after the timeline starts, each for
    its time (what is still frozen is in `stopped`)."""
    deadline = time.monotonic() + 300
    started = None
    while started is None:
        assert time.monotonic() < deadline and proc.poll() is None, "the lab starts"
        time.sleep(1)
        if ledger.exists():
            started = _fact(ledger, "SELECT value FROM run WHERE key = 'started'")
    t0 = float(started) + STALL_AT_S  # type: ignore[arg-type]
    time.sleep(max(0.0, t0 - time.time()))
    for cam in stalls:
        tid = _fact(ledger, "SELECT target_id FROM cameras WHERE camera = ?", cam)
        stopped[cam] = pids = _pids(capture.format(tid=tid))
        assert pids, f"no process of camera {cam} ({capture.format(tid=tid)!r}) to stop"
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
    for cam, length in sorted(stalls.items(), key=lambda x: x[1]):
        time.sleep(max(0.0, t0 + length - time.time()))
        for pid in stopped.pop(cam):
            with contextlib.suppress(ProcessLookupError):  # its watchdog may have killed it
                os.kill(pid, signal.SIGCONT)


def _lost(v: dict) -> dict[str, float]:
    """Seconds of video the verdict says the target lost, per camera (not the harness's)."""
    lost: dict[str, float] = {}
    for g in v["gaps"]:
        if g["explained_by"] is None and not g["harness"]:
            lost[g["camera"]] = lost.get(g["camera"], 0.0) + g["end"] - g["start"]
    for s in v["shortfalls"]:
        if s["explained_by"] is None:
            lost[s["camera"]] = lost.get(s["camera"], 0.0) + s["lost_s"]
    return lost


def _collateral(stalls: dict[str, float], out: Path, zoneminder_url: str) -> str:
    """What the verdict blamed on cameras not stalled, with what it said of them and
    ZoneMinder's own log of the run ('' when nothing was)."""
    v = json.loads((out / "verdict.json").read_text())
    extra = {c: s for c, s in _lost(v).items() if c not in stalls}
    if not extra:
        return ""
    said = [x for x in v["gaps"] + v["shortfalls"] + v["frames"] if x["camera"] in extra]
    zm = ZoneMinder(FastClient(), zoneminder_url)
    until = datetime.fromtimestamp(v["window"][1] + 30, UTC).isoformat()
    lines = zm.log_lines(datetime.fromtimestamp(v["window"][0] - 60, UTC))
    log = [x for x in lines if x.split(" ", 1)[0] <= until and " web_" not in x][-80:]
    return json.dumps({"lost_s": extra, "verdict": said, "zoneminder_log": log}, indent=1)


def _assert_blamed_on(stalls: dict[str, float], run: subprocess.CompletedProcess, out: Path,
                      after_s: float = 30.0, held: bool = False) -> dict:  # fmt: skip
    """The run failed; each stalled camera lost at least its stall and at most `after_s` more
    (a gap, or missing inside a recording; a restart and a reconnect add some), nothing was
    lost elsewhere, nothing was excused as the harness's, and frames recorded / produced
    shows it. `held`: a stalled camera may instead have lost nothing at all, when the
    target's own receive buffer held the whole stall (the camera then dropped nothing either)
    — but at least one stalled camera lost its stall."""
    assert run.returncode == 1, run.stdout[-3000:] + run.stderr[-3000:]
    v = json.loads((out / "verdict.json").read_text())
    lost = _lost(v)
    assert set(lost) <= set(stalls) and lost, (lost, run.stdout[-3000:])
    assert held or set(lost) == set(stalls), (lost, run.stdout[-3000:])
    for cam, length in stalls.items():
        if cam in lost:
            assert length - 12 <= lost[cam] <= length + after_s, (cam, lost, run.stdout[-3000:])
    assert not [g for g in v["gaps"] if g["harness"]], v["gaps"]  # nothing excused
    frames = {f["camera"]: f for f in v["frames"]}
    assert any(frames[c]["target_drops"] > 0 for c in lost), frames  # it stopped reading
    for cam, f in frames.items():
        if cam not in stalls:
            assert f["target_drops"] == 0 and f["ratio"] >= 0.9, f
        elif not held:
            assert f["target_drops"] > 0 and f["ratio"] < 0.9, f  # recorded / produced
    assert "UNEXPLAINED" in run.stdout and "the target stopped reading" in run.stdout
    return v


def test_zoneminder_captures_stalled_for_60_and_30_s_fail_the_run_on_those_cameras(
    zoneminder_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "lab"
    timeline = tmp_path / "none.jsonl"
    timeline.write_text("")
    cmd = [*CAMSIM, "lab", str(LAB), "--target", "zoneminder", "--host", zoneminder_url,
           "--cameras", "3", "--duration", "150s", "--timeline", str(timeline), "--no-load",
           "--out", str(out)]  # fmt: skip
    stalls = {"labcam-002": 60.0, "labcam-003": 30.0}
    run = _stall_while_running(cmd, out, stalls, "/usr/bin/zmc -m {tid} ")
    seen = _collateral(stalls, out, zoneminder_url)
    if seen:  # once: ZoneMinder itself may lose video elsewhere while two captures are frozen
        warnings.warn(f"run 1 of 2: video lost on cameras not stalled: {seen}", stacklevel=1)
        shutil.rmtree(out)
        run = _stall_while_running(cmd, out, stalls, "/usr/bin/zmc -m {tid} ")
        seen = _collateral(stalls, out, zoneminder_url)
        assert not seen, seen
    v = _assert_blamed_on(stalls, run, out)
    short = [s for s in v["shortfalls"] if s["camera"] == "labcam-003"]
    gaps = [g for g in v["gaps"] if g["camera"] == "labcam-003"]
    assert short or gaps, v  # either way, about 30 s lost on it
    assert v["window"][1] - v["window"][0] == pytest.approx(150, abs=15)


def test_motion_stalled_for_a_minute_fails_the_run(setup_script, tmp_path: Path) -> None:  # noqa: ANN001
    assert setup_script("motion.sh").startswith("4.")
    out = tmp_path / "lab"
    cmd = [*CAMSIM, "lab", str(LAB), "--target", "motion", "--cameras", "2",
           "--duration", "150s", "--out", str(out)]  # fmt: skip
    # motion is one process for all its cameras: stopped, it stalls every one of them; back,
    # it reconnects at once but may record again only with its next movie, up to a minute on
    stalls = {"labcam-001": 60.0, "labcam-002": 60.0}
    run = _stall_while_running(cmd, out, stalls, f"motion -n -c {out}/")
    # (motion's receive buffer may grow enough to hold a camera's whole stall: that camera
    # then lost nothing and the camera dropped nothing, and is rightly not blamed)
    # (or it never finished a camera's movie: all of that camera's video is lost)
    _assert_blamed_on(stalls, run, out, after_s=150, held=True)
