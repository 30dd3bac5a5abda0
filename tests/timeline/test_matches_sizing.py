"""The timeline is the one schedule: the outages `camsim timeline` writes are the ones
`camsim run` sizes, for the same scenario and seed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from click.testing import CliRunner

from simulator.cli import main

OUTAGES = Path(__file__).parents[1] / "data" / "outages.yaml"
SERVER_OF = {"n": "rec-n", "s": "rec-s"}
BACKUP = {"s"}


def _down(events: list[dict], key: str, horizon: int) -> dict[str, np.ndarray]:
    """{who: per-second bool mask of being down} from the *_down / *_up pairs."""
    masks: dict[str, np.ndarray] = {}
    opened: dict[str, float] = {}
    for e in events:
        who = e.get(key)
        if who is None or not e["kind"].endswith(("_down", "_up")):
            continue
        mask = masks.setdefault(who, np.zeros(horizon, dtype=bool))
        if e["kind"].endswith("_down"):
            opened[who] = e["t"]
        elif who in opened:
            mask[int(round(opened.pop(who))) : int(round(e["t"]))] = True
    for who, t in opened.items():
        masks[who][int(round(t)) :] = True
    return masks


def test_lost_camera_hours_by_cause_equal_the_timelines_outages(tmp_path: Path) -> None:
    timeline = tmp_path / "t.jsonl"
    r = CliRunner().invoke(main, ["timeline", str(OUTAGES), "--no-faults", "--out", str(timeline)])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(
        main, ["run", str(OUTAGES), "--no-year", "--quiet", "--out", str(tmp_path / "run")]
    )
    assert r.exit_code == 0, r.output
    lost = json.loads((tmp_path / "run" / "report.json").read_text())["recording"]["lost_hours"]

    events = [json.loads(line) for line in timeline.read_text().splitlines()]
    # elements start in their stationary state: this seed has one down from t = 0 (rec-n),
    # whose lost hours the sizing must count from its first tick
    assert any(e["t"] == 0 and e["kind"].endswith("_down") for e in events)
    horizon = 7 * 86400
    never = np.zeros(horizon, dtype=bool)
    cams = _down(events, "camera", horizon)
    links = _down(events, "link", horizon)
    servers = _down(events, "server", horizon)
    truth = {"camera": 0.0, "link": 0.0, "server": 0.0}
    intervals = {k: sum(e["kind"].endswith("_down") for e in events if k in e) for k in truth}
    cameras = [f"north-{i:03d}" for i in range(1, 7)] + [f"south-{i:03d}" for i in range(1, 5)]
    for cam in cameras:
        d = cam[0]
        uplink = links.get(f"uplink:{d}", never)
        backup = links.get(f"backup:{d}", never) if d in BACKUP else ~never
        cut = links.get(f"access:{cam}", never) | links.get("core", never) | (uplink & backup)
        camera = cams.get(cam, never)
        truth["camera"] += camera.sum() / 3600
        truth["link"] += (cut & ~camera).sum() / 3600
        truth["server"] += (servers.get(SERVER_OF[d], never) & ~camera & ~cut).sum() / 3600
    tick_h = 10 / 3600
    for cause, hours in truth.items():
        assert intervals[cause] > 5 and hours > 5, (cause, intervals[cause], hours)
        # each outage's ends move to whole ticks (start floored, end rounded up), for every
        # camera it reaches
        slack = 2 * tick_h * intervals[cause] * len(cameras)
        assert abs(lost[cause] - hours) <= slack, (cause, lost[cause], hours, slack)
        assert abs(lost[cause] - hours) <= 0.01 * hours + 2 * tick_h * intervals[cause], (
            cause,
            lost[cause],
            hours,
        )
    assert lost["congestion"] == 0 and lost["overload"] == 0 and lost["unassigned"] == 0
