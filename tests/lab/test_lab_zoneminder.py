"""`camsim lab` end to end against the real ZoneMinder (started by the repo's setup script):
faults injected on the wire, a ledger of what was sent, and a verdict that is right about
them. Three tiny cameras for three minutes; then a run killed mid-way."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.lab.builds import ONCE, builds_by, built, counted, counted_env

LAB = Path(__file__).parents[1] / "data" / "lab.yaml"
CAMSIM = [sys.executable, "-m", "simulator.cli"]
CAMS = "3"


def lab_cmd(url: str, out: Path, timeline: Path, duration: str) -> list[str]:
    return [*CAMSIM, "lab", str(LAB), "--target", "zoneminder", "--host", url,
            "--cameras", CAMS, "--duration", duration, "--timeline", str(timeline),
            "--out", str(out)]  # fmt: skip


def write_timeline(path: Path, lines: list[dict]) -> Path:
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return path


def test_the_verdict_explains_an_outage_and_reports_packet_loss(
    zoneminder_url: str, tmp_path: Path
) -> None:
    timeline = write_timeline(tmp_path / "t.jsonl", [
        {"t": 40, "kind": "camera_down", "camera": "labcam-001"},
        {"t": 80, "kind": "camera_up", "camera": "labcam-001"},
        {"t": 100, "kind": "packet_loss", "camera": "labcam-002",
         "params": {"percent": 20, "duration_s": 40}},
    ])  # fmt: skip
    out = tmp_path / "lab"
    run = subprocess.run(lab_cmd(zoneminder_url, out, timeline, "180s"), capture_output=True,
                         text=True, timeout=600)  # fmt: skip
    # the faults are all explained: the run passes (the same cameras with a capture stalled
    # fail: tests/lab/test_lab_stall.py)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    v = json.loads((out / "verdict.json").read_text())
    assert v["schema"] == "camsim.verdict/1" and (out / "verdict.html").stat().st_size > 10_000
    assert 175 <= v["window"][1] - v["window"][0] <= 200

    (outage,) = v["outages"]
    assert outage["camera"] == "labcam-001" and outage["kind"] == "camera_down"
    assert outage["end"] - outage["start"] == pytest.approx(40, abs=1.5)
    assert outage["noticed"], "ZoneMinder logs the loss and closes its event"
    assert outage["recovered_after_s"] is not None and 0 <= outage["recovered_after_s"] <= 30
    gaps = {g["camera"]: g for g in v["gaps"]}
    assert gaps["labcam-001"]["explained_by"] == "camera_down"
    assert not [g for g in v["gaps"] if g["explained_by"] is None], v["gaps"]

    frames = {f["camera"]: f for f in v["frames"]}
    clean = frames["labcam-003"]
    assert clean["outside_outages_sent"] > 1500  # 10 fps for three minutes
    assert clean["ratio"] == pytest.approx(1.0, abs=0.05)
    assert frames["labcam-001"]["ratio"] == pytest.approx(1.0, abs=0.05)

    (loss,) = v["degradations"]
    assert loss["camera"] == "labcam-002" and loss["params"]["percent"] == 20
    assert loss["end"] - loss["start"] == pytest.approx(40, abs=1)
    assert 300 <= loss["sent"] <= 420  # 40 s at 10 fps, the generator's own count
    assert loss["recorded"] >= 0 and isinstance(loss["noticed"], list)
    assert "outage camera_down labcam-001 40 s" in run.stdout
    assert "fault packet_loss labcam-002" in run.stdout


def _until_intervals(proc: subprocess.Popen, ledger: Path, n: int) -> None:
    """Wait (up to 180 s) until the running lab's ledger holds `n` intervals."""
    deadline = time.monotonic() + 180
    while True:
        assert time.monotonic() < deadline and proc.poll() is None, "the lab runs"
        time.sleep(2)
        if ledger.exists():
            with sqlite3.connect(ledger) as db:
                if db.execute("SELECT count(DISTINCT t0) FROM sent").fetchone()[0] >= n:
                    return


def test_a_killed_run_leaves_a_ledger_to_judge(zoneminder_url: str, tmp_path: Path) -> None:
    timeline = write_timeline(tmp_path / "t.jsonl", [
        {"t": 5, "kind": "stream_freeze", "camera": "labcam-002", "params": {"duration_s": 8}},
    ])  # fmt: skip
    out = tmp_path / "lab"
    cmd = lab_cmd(zoneminder_url, out, timeline, "300s")
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    ledger = out / "ledger.sqlite"
    try:
        _until_intervals(proc, ledger, 3)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    with sqlite3.connect(ledger) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        intervals = db.execute("SELECT DISTINCT t0, t1 FROM sent ORDER BY t0").fetchall()
        facts = dict(db.execute("SELECT key, value FROM run").fetchall())
    assert len(intervals) >= 3
    assert all(a[1] == pytest.approx(b[0]) for a, b in zip(intervals, intervals[1:], strict=False))
    pid = json.loads(facts["generator_pid"])
    for _ in range(50):  # the generator ends with the lab (PR_SET_PDEATHSIG)
        if not Path(f"/proc/{pid}").exists() or "zombie" in _state(pid):
            break
        time.sleep(0.2)
    else:
        pytest.fail(f"camsim serve (pid {pid}) outlived the killed lab")
    run = subprocess.run([*CAMSIM, "verdict", str(out), "--host", zoneminder_url],
                         capture_output=True, text=True, timeout=300)  # fmt: skip
    assert run.returncode in (0, 1), run.stderr
    v = json.loads((out / "verdict.json").read_text())
    assert v["window"][1] == pytest.approx(intervals[-1][1])
    assert [o["kind"] for o in v["outages"]] == ["stream_freeze"]


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().lower()
    except OSError:
        return "zombie"


def test_the_operators_load_runs_beside_the_streams(zoneminder_url: str, tmp_path: Path) -> None:
    """A simulated hour of two operators at speed 60: every action of the schedule reaches
    the ledger with its result, and the verdict holds the API's figures. The run builds the
    City and the timeline once, in the lab, and its children read them from OUT/run."""
    scenario = Path(__file__).parents[1] / "data" / "lab-load.yaml"
    out = tmp_path / "lab"
    cmd = [*CAMSIM, "lab", str(scenario), "--target", "zoneminder", "--host", zoneminder_url,
           "--cameras", "2", "--duration", "60s", "--speed", "60", "--out", str(out)]  # fmt: skip
    env, builds = counted_env(tmp_path)
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)
    assert run.returncode in (0, 1), run.stderr[-3000:]
    # the lab builds the City and the timeline once, in one process, and hands them over in
    # OUT/run: camsim serve serves the cameras of cameras.json and camsim loadtest checks the
    # schedule's names against it; neither, nor Locust, builds a City or a timeline
    assert counted(builds) == {"lab", "serve", "loadtest", "locust"}  # every process counts
    assert builds_by(builds) == ONCE, built(builds)
    assert len({pid for pid, _, _ in built(builds)}) == 1
    assert {p.name for p in (out / "run").iterdir()} == {
        "scenario.yaml", "cameras.json", "faults.jsonl", "schedule.jsonl"}  # fmt: skip
    # the generator replayed the lab's faults, the load the lab's schedule
    with sqlite3.connect(out / "ledger.sqlite") as db:
        generator = json.loads(db.execute("SELECT value FROM run WHERE key = 'generator'")
                               .fetchone()[0])  # fmt: skip
    faults = (out / "run" / "faults.jsonl").read_text().splitlines()
    assert generator["timeline_events"] == len(faults) > 0
    assert (out / "run" / "schedule.jsonl").read_text().count("\n") >= 10
    schedule = subprocess.run([*CAMSIM, "timeline", str(scenario), "--actions", "--no-faults"],
                              capture_output=True, text=True, check=True).stdout  # fmt: skip
    events = [json.loads(x) for x in schedule.splitlines()]
    events = [e for e in events if e["kind"] not in ("night", "day")]

    def count(until: float) -> dict[str, int]:
        kinds = [e["kind"] for e in events if e["t"] < until]
        return {k: kinds.count(k) for k in set(kinds)}

    # the load starts a few seconds after the streams and runs as long: every action due in
    # the first 55 s of the hour is done, none that was not scheduled
    early, wanted = count(55 * 60), count(float("inf"))
    with sqlite3.connect(out / "ledger.sqlite") as db:
        done = dict(db.execute("SELECT kind, count(*) FROM actions GROUP BY kind").fetchall())
        cameras = {c for (c,) in db.execute("SELECT DISTINCT camera FROM actions")}
    assert set(done) == set(wanted), (done, wanted)
    assert all(early.get(k, 0) <= n <= wanted[k] for k, n in done.items()), (done, early)
    assert cameras == {"labload-001", "labload-002"}
    v = json.loads((out / "verdict.json").read_text())
    api = {a["kind"]: a for a in v["api"]}
    assert api["live_view"]["count"] == done["live_view"] and api["live_view"]["p99_s"] > 0
    assert any(c["name"] == "API live_view p99 s" for c in v["checks"])
    assert "actions" in run.stderr and "load running" in run.stderr


def test_a_terminated_run_is_judged_and_leaves_the_target_as_it_was(
    zoneminder_url: str, tmp_path: Path
) -> None:
    """SIGTERM (a CI job's timeout, `kill`) ends the lab as Ctrl-C does: what was held is
    judged, the ledger says the run was interrupted, and its cameras leave ZoneMinder."""
    out = tmp_path / "lab"
    cmd = lab_cmd(zoneminder_url, out, write_timeline(tmp_path / "t.jsonl", []), "300s")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ledger = out / "ledger.sqlite"
    try:
        _until_intervals(proc, ledger, 2)
        with sqlite3.connect(ledger) as db:
            ids = [t for (t,) in db.execute("SELECT target_id FROM cameras")]
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=180)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode in (0, 1), stderr[-2000:]
    assert "verdict:" in stdout and "Traceback" not in stderr, stderr[-2000:]
    v = json.loads((out / "verdict.json").read_text())
    assert v["window"][1] - v["window"][0] < 200  # what was held, not the 300 s asked
    with sqlite3.connect(ledger) as db:
        assert json.loads(db.execute("SELECT value FROM run WHERE key = 'interrupted'")
                          .fetchone()[0]) is True  # fmt: skip
    assert len(ids) == int(CAMS)
    for tid in ids:  # the monitors are gone from ZoneMinder
        try:
            urllib.request.urlopen(f"{zoneminder_url}/api/monitors/{tid}.json", timeout=10)
        except urllib.error.HTTPError as exc:
            assert exc.code == 404
        else:
            pytest.fail(f"monitor {tid} is still in ZoneMinder")
