"""`camsim lab --find-capacity` against the real ZoneMinder: cameras added one at a time,
each step judged on its own window, the search stopping at the first step that fails."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from simulator.lab.capacity import Capacity, Step

LAB = Path(__file__).parents[1] / "data" / "lab.yaml"


def test_the_search_stops_at_the_first_failing_step(zoneminder_url: str, tmp_path: Path) -> None:
    # Step 1 (labcam-001) is held over timeline 0-30 s; step 2 adds labcam-002 and holds
    # 50-80 s, when labcam-002 goes down for 10 s: with a recovery SLO of 0 s (ZoneMinder
    # needs about 4 s) step 2 fails on that camera, and only on it.
    timeline = tmp_path / "t.jsonl"
    timeline.write_text('{"t": 55, "kind": "camera_down", "camera": "labcam-002"}\n'
                        '{"t": 65, "kind": "camera_up", "camera": "labcam-002"}\n')  # fmt: skip
    out = tmp_path / "cap"
    run = subprocess.run(
        [sys.executable, "-m", "simulator.cli", "lab", str(LAB), "--target", "zoneminder",
         "--host", zoneminder_url, "--find-capacity", "--step", "1", "--hold", "30s",
         "--timeline", str(timeline), "--recovery-slo", "0", "--out", str(out)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    c = json.loads((out / "capacity.json").read_text())
    assert c["schema"] == "camsim.capacity/1" and c["ceiling"] == 3
    assert [(s["cameras"], s["passed"]) for s in c["steps"]] == [(1, True), (2, False)]
    assert c["sustained"] == 1
    # conclusive unless the generator itself fell behind in the failing step (a busy machine)
    assert c["conclusive"] == (not c["steps"][1]["harness_fell_behind"])
    assert any(f.startswith("recovery after camera_down on labcam-002") for f in c["broke_first"])
    assert not any("labcam-001" in f for f in c["broke_first"]), c["broke_first"]
    one, two = c["steps"]
    assert 29 <= one["end"] - one["start"] <= 35 and two["start"] - one["end"] >= 20
    assert "capacity: sustained 1 cameras; broke first at 2" in run.stdout


def test_what_the_search_reports() -> None:
    ok, bad = Step(10, 0, 300, True), Step(20, 320, 620, False, ["API live_view p99 s: 6"])
    c = Capacity([ok, bad, Step(30, 640, 940, True)], 30, 10, 300)
    assert (c.sustained, c.broke_first, c.conclusive) == (10, ["API live_view p99 s: 6"], True)
    behind = Capacity([ok, Step(20, 320, 620, False, ["x"], harness_fell_behind=True)], 30, 10, 9)
    assert behind.sustained == 10 and not behind.conclusive
    ceiling = Capacity([ok], 10, 10, 300)
    assert ceiling.sustained == 10 and ceiling.broke_first == [] and not ceiling.conclusive
