"""The actions log: the load writes ActionRow lines, the lab reads them into its ledger."""

from __future__ import annotations

import json
from pathlib import Path

from loadtests.actionlog import MAX_ERROR, ActionLog
from loadtests.users.actions import ACTION
from simulator.lab.load import Load
from simulator.timeline.actionrow import ActionRow


def test_the_load_writes_what_the_lab_reads(tmp_path: Path) -> None:
    path = tmp_path / "actions.jsonl"
    log = ActionLog(str(path))
    log.on_request(ACTION, "live_view", 2500.0, None, {"camera": "cam-1", "planned_s": 2.0})
    log.on_request(ACTION, "playback", 100.0, RuntimeError("x" * 300), {"camera": "cam-2"})
    log.on_request("GET", "/api/monitors", 1.0)  # not an action
    log.close()
    a, b = (json.loads(line) for line in path.read_text().splitlines())
    # the wire: these names in this order, as scripts reading the log as dictionaries expect
    assert list(a) == ["end", "kind", "camera", "latency_s", "planned_s", "ok", "error"]
    assert {**a, "end": 0} == {
        "end": 0,
        "kind": "live_view",
        "camera": "cam-1",
        "latency_s": 2.5,
        "planned_s": 2.0,
        "ok": True,
        "error": None,
    }
    assert b["ok"] is False and b["error"] == "x" * MAX_ERROR and b["planned_s"] == 0.0
    assert ActionRow.from_dict(a).to_json() == json.dumps(a)
    rows = Load(proc=None, log=path, summary=tmp_path / "s.json").actions()  # type: ignore[arg-type]
    assert rows == [
        ("live_view", "cam-1", None, a["end"] - 2.5, 0.5, 1, None),
        ("playback", "cam-2", None, b["end"] - 0.1, 0.1, 0, "x" * MAX_ERROR),
    ]


def test_a_line_without_planned_s_planned_nothing() -> None:
    row = ActionRow.from_json('{"end": 10.0, "kind": "k", "camera": null, "latency_s": 1.5, '
                              '"ok": true, "error": null}')  # fmt: skip
    assert (row.start, row.response_s, row.planned_s) == (8.5, 1.5, 0.0)


def test_lines_wait_at_most_flush_s_and_are_written_whole(tmp_path: Path) -> None:
    import gevent

    path = tmp_path / "actions.jsonl"
    log = ActionLog(str(path), flush_s=0.05, max_bytes=1000)
    for i in range(3):
        log.on_request(ACTION, "live_view", 10.0, None, {"camera": f"cam-{i}"})
    assert path.read_text() == ""  # buffered: no write per action
    gevent.sleep(0.15)
    assert [json.loads(line)["camera"] for line in path.read_text().splitlines()] == [
        "cam-0", "cam-1", "cam-2"]  # fmt: skip
    for i in range(40):  # past max_bytes: written at once, without waiting
        log.on_request(ACTION, "live_view", 10.0, None, {"camera": f"cam-{i}"})
    written = path.read_text()
    assert written.endswith("\n") and len(written.splitlines()) > 3 and log.size < 1000
    log.close()  # the rest at the end
    assert len(path.read_text().splitlines()) == 43
