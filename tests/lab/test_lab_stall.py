"""A recorder that stops reading: the real target's capture process frozen (SIGSTOP) for 60 s
and resumed, as CPU starvation or a blocked disk freeze it. Its connection fills, the camera
throws away what it does not take, and the verdict blames the target for the loss on that
camera alone (the harness is not excused, nor blamed)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

LAB = Path(__file__).parents[1] / "data" / "lab.yaml"
CAMSIM = [sys.executable, "-m", "simulator.cli"]
STALLED = "labcam-002"
STALL_AT_S, STALL_S = 25.0, 60.0  # after the timeline starts


def _fact(ledger: Path, sql: str) -> object:
    try:
        with sqlite3.connect(ledger) as db:
            row = db.execute(sql).fetchone()
    except sqlite3.Error:
        return None
    return row[0] if row else None


def _pids(match: str) -> list[int]:
    """Processes whose command line contains `match` (its words, space-separated)."""
    out = []
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                cmd = (p / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if match in cmd:
                out.append(int(p.name))
    return out


def _stall_while_running(cmd: list[str], out: Path, capture: str) -> subprocess.CompletedProcess:
    """Run the lab; STALL_AT_S after its timeline starts, freeze the processes whose command
    line holds `capture` (formatted with the stalled camera's target id) for STALL_S."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ledger = out / "ledger.sqlite"
    stopped: list[int] = []
    try:
        deadline = time.monotonic() + 300
        started = None
        while started is None:
            assert time.monotonic() < deadline and proc.poll() is None, "the lab starts"
            time.sleep(1)
            if ledger.exists():
                started = _fact(ledger, "SELECT value FROM run WHERE key = 'started'")
        tid = _fact(ledger, f"SELECT target_id FROM cameras WHERE camera = '{STALLED}'")
        time.sleep(max(0.0, float(started) + STALL_AT_S - time.time()))
        stopped = _pids(capture.format(tid=tid))
        assert stopped, f"no process of camera {STALLED} ({capture.format(tid=tid)!r}) to stop"
        for pid in stopped:
            os.kill(pid, signal.SIGSTOP)
        time.sleep(STALL_S)
    finally:
        for pid in stopped:
            with contextlib.suppress(ProcessLookupError):  # its watchdog may have killed it
                os.kill(pid, signal.SIGCONT)
    stdout, stderr = proc.communicate(timeout=600)
    return subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr)


def _assert_blamed_on(stalled: set[str], run: subprocess.CompletedProcess, out: Path) -> None:
    """The run failed with 40-90 s lost on each stalled camera (a gap, or missing inside a
    recording), nothing lost elsewhere, nothing excused as the harness's."""
    assert run.returncode == 1, run.stdout[-3000:] + run.stderr[-3000:]
    v = json.loads((out / "verdict.json").read_text())
    lost: dict[str, float] = {}
    for g in v["gaps"]:
        if g["explained_by"] is None and not g["harness"]:
            lost[g["camera"]] = lost.get(g["camera"], 0.0) + g["end"] - g["start"]
    for s in v["shortfalls"]:
        if s["explained_by"] is None:
            lost[s["camera"]] = lost.get(s["camera"], 0.0) + s["lost_s"]
    assert set(lost) == stalled, (lost, run.stdout[-3000:])
    assert all(40 <= s <= 90 for s in lost.values()), (lost, run.stdout[-3000:])
    assert not [g for g in v["gaps"] if g["harness"]], v["gaps"]  # nothing excused
    for f in v["frames"]:  # the stalled stopped taking what the camera sent
        assert (f["target_drops"] > 0) == (f["camera"] in stalled), f
        assert (f["ratio"] < 0.9) == (f["camera"] in stalled), f  # recorded / produced
    assert "UNEXPLAINED" in run.stdout and "the target stopped reading" in run.stdout


def test_a_zoneminder_capture_stalled_for_a_minute_fails_the_run(
    zoneminder_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "lab"
    timeline = tmp_path / "none.jsonl"
    timeline.write_text("")
    cmd = [*CAMSIM, "lab", str(LAB), "--target", "zoneminder", "--host", zoneminder_url,
           "--cameras", "3", "--duration", "150s", "--timeline", str(timeline), "--no-load",
           "--out", str(out)]  # fmt: skip
    run = _stall_while_running(cmd, out, "zmc -m {tid}")
    _assert_blamed_on({STALLED}, run, out)


def test_motion_stalled_for_a_minute_fails_the_run(setup_script, tmp_path: Path) -> None:  # noqa: ANN001
    assert setup_script("motion.sh").startswith("4.")
    out = tmp_path / "lab"
    cmd = [*CAMSIM, "lab", str(LAB), "--target", "motion", "--cameras", "2",
           "--duration", "150s", "--out", str(out)]  # fmt: skip
    # motion is one process for all its cameras: stopped, it stalls every one of them
    run = _stall_while_running(cmd, out, f"motion -n -c {out}")
    _assert_blamed_on({"labcam-001", "labcam-002"}, run, out)
