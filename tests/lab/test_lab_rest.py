"""`camsim lab --target rest` end to end against the benchmarks' stub VMS (a real HTTP
server in its own process, answering benchmarks/data/stub-vms.yaml; it records nothing). The
run builds the City and the timeline once, in the lab (its processes' builds counted)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import urllib.request
from pathlib import Path

from tests.lab.builds import ONCE, builds_by, built, counted, counted_env

ROOT = Path(__file__).parents[2]
LAB_LOAD = ROOT / "tests" / "data" / "lab-load.yaml"
STUB = ROOT / "benchmarks" / "stub_vms.py"
MAPPING = ROOT / "benchmarks" / "data" / "stub-vms.yaml"


def test_a_lab_run_keeps_every_interval_runs_the_load_and_blames_the_silent_target(
    tmp_path: Path,
) -> None:
    stub = subprocess.Popen([sys.executable, str(STUB)], stdout=subprocess.PIPE, text=True)
    try:
        assert stub.stdout is not None
        url = stub.stdout.readline().strip()
        out = tmp_path / "lab"
        env, builds = counted_env(tmp_path)
        run = subprocess.run(
            [sys.executable, "-m", "simulator.cli", "lab", str(LAB_LOAD), "--target", "rest",
             "--host", url, "--mapping", str(MAPPING), "--cameras", "2", "--duration", "45s",
             "--speed", "60", "--out", str(out)],
            capture_output=True, text=True, timeout=600, cwd=ROOT, env=env,
        )  # fmt: skip
        # the stub recorded nothing: every camera is an unexplained gap, so the run fails
        assert run.returncode == 1, run.stdout[-2000:] + run.stderr[-2000:]
        v = json.loads((out / "verdict.json").read_text())
        assert not v["passed"] and {g["camera"] for g in v["gaps"]} == {"labload-001",
                                                                       "labload-002"}  # fmt: skip
        with urllib.request.urlopen(f"{url}/cameras", timeout=10) as r:
            assert json.loads(r.read())["cameras"] == []  # removed after the run
    finally:
        stub.terminate()
        stub.wait(10)
    db = sqlite3.connect(out / "ledger.sqlite")
    facts = {k: json.loads(x) for k, x in db.execute("SELECT key, value FROM run")}
    for cam in ("labload-001", "labload-002"):
        spans = db.execute("SELECT t0, t1 FROM sent WHERE camera = ? AND stream = 'main' "
                           "ORDER BY t0", (cam,)).fetchall()  # fmt: skip
        # the intervals chain and cover the whole window: none missing
        assert spans[0][0] <= facts["started"] + 1 and spans[-1][1] >= facts["ended"]
        assert all(a[1] == b[0] for a, b in zip(spans, spans[1:], strict=False))
        assert all(t1 - t0 <= 15 for t0, t1 in spans if t1 <= facts["ended"])
        assert len(spans) >= 4
    # the operators' load ran against the stub: actions done, none failed
    kinds = db.execute("SELECT kind, min(ok), count(*) FROM actions GROUP BY kind").fetchall()
    assert kinds and all(ok == 1 for _, ok, _ in kinds), kinds
    processes = {p for (p,) in db.execute("SELECT DISTINCT process FROM health")}
    assert processes == {"camsim serve", "camsim lab", "camsim loadtest"}
    # the City and the timeline built once, by the lab; its children read them from OUT/run
    assert counted(builds) == {"lab", "serve", "loadtest", "locust"}  # every process counts
    assert builds_by(builds) == ONCE, built(builds)
