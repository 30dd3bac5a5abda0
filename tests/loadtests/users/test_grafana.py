"""The Grafana dashboard queries only metrics that `camsim serve` and `camsim loadtest`
really expose: both scraped while a load test runs against the real ZoneMinder."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import requests

import loadtests
from tests.loadtests.users.conftest import ENV, ROOT, TINY, actions_timeline
from tests.loadtests.users.test_loadtest import free_port

DASHBOARD = Path(loadtests.__file__).parent / "grafana" / "camsim.json"
METRIC = re.compile(r"\b(camsim_[a-z0-9_]+)\b")


def queried(dashboard: dict) -> set[str]:
    names = set()
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            names |= set(METRIC.findall(target["expr"]))
    return names


def samples(text: str) -> set[str]:
    """The sample names of a Prometheus text exposition."""
    return {re.split(r"[{ ]", ln, maxsplit=1)[0] for ln in text.splitlines()
            if ln and not ln.startswith("#")}  # fmt: skip


def test_every_metric_the_dashboard_queries_is_exposed(
    serve, zoneminder_cameras: str, write_timeline, tmp_path: Path
) -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    wanted = queried(dashboard)
    assert len(wanted) >= 15 and {m for m in wanted if m.startswith("camsim_load_")}
    port = free_port()
    timeline = write_timeline(actions_timeline(24, every_s=20.0, start_s=10.0))
    run = subprocess.Popen(
        [sys.executable, "-m", "simulator.cli", "loadtest", str(TINY), "--target",
         "zoneminder", "--host", zoneminder_cameras, "--timeline", str(timeline),
         "--speed", "20", "--metrics-port", str(port), "--rtsp-viewers", "2",
         "--rtsp", serve.ready["urls"], "--view-s", "2"],
        env=ENV, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    load = set()
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and run.poll() is None:
            time.sleep(2)
            try:
                load = samples(requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text)
            except requests.ConnectionError:
                continue
            if {m for m in wanted if m.startswith("camsim_load_")} <= load:
                break
    finally:
        run.terminate()
        _, err = run.communicate(timeout=60)
    # a fault applied now makes camsim serve count a timeline event
    fault = {"kind": "jitter", "ms": 5.0, "duration_s": 1.0}
    api = serve.ready["api"]
    token = {"Authorization": f"Bearer {serve.ready['token']}"}
    assert requests.post(f"{api}api/cameras/h264cam-001/faults", json=fault, headers=token,
                         timeout=10).ok  # fmt: skip
    assert load, err[-1500:]
    exposed = load | samples(serve.metrics())
    assert wanted - exposed == set(), f"queried but not exposed: {sorted(wanted - exposed)}"
