"""`camsim lab` against a real motion 4.5, which the lab starts itself with the served
cameras in its configuration: its movies on disk are the recordings."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

LAB = Path(__file__).parents[1] / "data" / "lab.yaml"


def test_motion_movies_are_found_and_matched_to_what_was_sent(setup_script, tmp_path: Path) -> None:  # noqa: ANN001
    assert setup_script("motion.sh").startswith("4.")
    out = tmp_path / "lab"
    run = subprocess.run(
        [sys.executable, "-m", "simulator.cli", "lab", str(LAB), "--target", "motion",
         "--cameras", "2", "--duration", "120s", "--out", str(out)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    v = json.loads((out / "verdict.json").read_text())
    assert v["passed"] and not v["gaps"] and not v["outages"]
    movies = sorted((out / "motion" / "movies").iterdir())
    for i, cam in enumerate(("labcam-001", "labcam-002"), start=1):
        # one movie a minute: the two minutes are in two or three of them
        recs = v["recordings"][cam]
        assert 2 <= len(recs) <= 4, recs
        assert len([m for m in movies if m.name.startswith(f"{i}-")]) == len(recs)
        assert recs[0][0] <= v["window"][0] + 2 and recs[-1][1] >= v["window"][1] - 2
        frames = next(f for f in v["frames"] if f["camera"] == cam)
        assert frames["sent"] == pytest.approx(1200, abs=15)  # 10 fps for two minutes
        assert frames["ratio"] == pytest.approx(1.0, abs=0.05)
    assert {"motion", "camsim serve", "camsim lab"} <= {h["process"] for h in _health(out)}
    # judged again from the ledger and motion's files alone (motion has stopped)
    again = subprocess.run([sys.executable, "-m", "simulator.cli", "verdict", str(out)],
                           capture_output=True, text=True, timeout=120)  # fmt: skip
    assert again.returncode == 0, again.stderr[-2000:]
    assert json.loads((out / "verdict.json").read_text())["frames"] == v["frames"]


def _health(out: Path) -> list[dict]:
    import sqlite3

    with sqlite3.connect(out / "ledger.sqlite") as db:
        return [{"process": p} for (p,) in db.execute("SELECT DISTINCT process FROM health")]
