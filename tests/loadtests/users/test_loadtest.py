"""`camsim loadtest` end to end against the real ZoneMinder recording camsim's cameras, and
Locust's master with two workers replaying one schedule between them."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections import Counter
from pathlib import Path

import loadtests
from loadtests.schedule import ACTIONS
from tests.loadtests.users.conftest import ENV, ROOT, TINY, actions_timeline

LOCUSTFILE = Path(loadtests.__file__).parent / "locustfile.py"


def camsim(*args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "simulator.cli", *args], capture_output=True,
                          text=True, env=ENV, cwd=ROOT, timeout=timeout)  # fmt: skip


def test_loadtest_replays_every_action_against_zoneminder(
    zoneminder_cameras: str, write_timeline, tmp_path: Path
) -> None:
    events = actions_timeline(36, every_s=15.0)  # 540 simulated s at speed 20: 27 s
    timeline = write_timeline(events)
    summary = tmp_path / "summary.json"
    run = camsim(
        "loadtest", str(TINY), "--target", "zoneminder", "--host", zoneminder_cameras,
        "--timeline", str(timeline), "--speed", "20", "--summary", str(summary),
        "--csv", str(tmp_path / "run"), "--html", str(tmp_path / "run.html"),
    )  # fmt: skip
    assert summary.exists(), run.stderr[-2000:]
    got = json.loads(summary.read_text())
    assert run.returncode == 0, (got["errors"], run.stdout[-2000:])
    wanted = Counter(e.kind for e in events)
    assert {k: r["count"] for k, r in got["actions"].items()} == dict(wanted)
    assert {k: r["scheduled"] for k, r in got["actions"].items()} == dict(wanted)
    assert all(r["failures"] == 0 and r["dropped"] == 0 for r in got["actions"].values())
    # ZoneMinder 1.36 cannot move cameras: counted, not failed
    assert got["unsupported"] == {"incident_response/ptz": wanted["incident_response"]}
    for kind in wanted:
        assert kind in run.stdout  # the table, one row per kind
    assert (tmp_path / "run_stats.csv").exists() and (tmp_path / "run.html").exists()


def test_loadtest_replays_the_model_s_hour_against_zoneminder(
    zoneminder_cameras: str, tmp_path: Path
) -> None:
    """The operators' actions the model draws for an hour of two operators, at speed 60."""
    from simulator.model.city import City
    from simulator.model.timeline import build_timeline
    from simulator.scenario import load_scenario

    scenario = ROOT / "tests" / "data" / "load-city.yaml"
    city = City.of(load_scenario(scenario))
    wanted = Counter(e.kind for e in build_timeline(city, faults=False, actions=True)
                     if e.kind in ACTIONS)  # fmt: skip
    assert wanted["live_view"] > 50 and len(wanted) >= 4
    summary = tmp_path / "summary.json"
    run = camsim("loadtest", str(scenario), "--target", "zoneminder", "--host",
                 zoneminder_cameras, "--speed", "60", "--summary", str(summary))  # fmt: skip
    assert summary.exists(), run.stderr[-2000:]
    got = json.loads(summary.read_text())
    assert run.returncode == 0, (got["errors"], run.stdout[-2000:])
    assert {k: r["count"] for k, r in got["actions"].items()} == dict(wanted)
    assert max(r["lag_p99_ms"] for r in got["actions"].values()) < 100


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_master_and_two_workers_replay_the_schedule_once(
    zoneminder_cameras: str, write_timeline, tmp_path: Path
) -> None:
    events = actions_timeline(30, every_s=10.0)  # operators 0-3 and remote: both shards busy
    timeline = write_timeline(events)
    summary = tmp_path / "summary.json"
    port = str(free_port())
    locust = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--loglevel", "WARNING"]
    run = {"env": ENV, "cwd": tmp_path, "stdout": subprocess.PIPE, "stderr": subprocess.STDOUT,
           "text": True}  # fmt: skip
    master = subprocess.Popen(
        [*locust, "--master", "--master-bind-host", "127.0.0.1", "--master-bind-port", port,
         "--expect-workers", "2", "--headless", "--only-summary",
         "--host", zoneminder_cameras, "--camsim-scenario", str(TINY),
         "--camsim-timeline", str(timeline), "--camsim-speed", "20",
         "--camsim-summary", str(summary)], **run,
    )  # fmt: skip
    workers = [
        subprocess.Popen(
            [*locust, "--worker", "--master-host", "127.0.0.1", "--master-port", port], **run
        )  # fmt: skip
        for _ in range(2)
    ]
    try:
        out, _ = master.communicate(timeout=180)
        for w in workers:
            w.wait(timeout=30)
    finally:
        for p in (master, *workers):
            if p.poll() is None:
                p.kill()
    got = json.loads(summary.read_text())
    wanted = Counter(e.kind for e in events)
    assert {k: r["count"] for k, r in got["actions"].items()} == dict(wanted), out[-2000:]
    assert {k: r["dispatched"] for k, r in got["actions"].items()} == dict(wanted)
