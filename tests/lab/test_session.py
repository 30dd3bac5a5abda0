"""One session wires a lab run and a capacity search alike (the lab returns its verdict and
the CLI writes it: tests/test_floors.py holds the lab below the reports and the CLI)."""

from __future__ import annotations

import ast
import json
import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from simulator.lab.capacity import find_capacity
from simulator.lab.inputs import RunInputs
from simulator.lab.ledger import Ledger
from simulator.lab.run import run_lab
from simulator.lab.session import LabOptions
from simulator.streams.records import CameraRow, ReadyLine, StreamRow

LAB = Path(__file__).parents[2] / "simulator" / "lab"


def _imported(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            out.add(node.module)
    return out


def test_run_and_capacity_share_the_session() -> None:
    for name in ("run.py", "capacity.py"):
        mods = _imported(LAB / name)
        assert "simulator.lab.session" in mods, name
        # the processes are the session's alone
        assert not mods & {"simulator.lab.generator", "simulator.lab.load",
                           "simulator.lab.sampler"}, name  # fmt: skip


# --- the session's vocabulary, with the processes and the target faked -------------------
class FakeGenerator:
    """`camsim serve` as the session sees it: three cameras, nothing sent, nothing applied."""

    pid, missed, last_cameras = os.getpid(), 0, []
    ready = ReadyLine("rtsp://x/", 1, [2, 3], "fake", 4, "fake/api/cameras", 3, 3, 0, 1.0, 0.0,
                      "waiting", "t")  # fmt: skip

    def __init__(self) -> None:
        self.calls: list[str] = []

    def cameras(self) -> list[CameraRow]:
        main = StreamRow("rtsp://x", "h264", 64, 48, 10, 0.1, 0.1, 1, *[0] * 8)
        return [CameraRow(f"cam-{i}", "d", "online", False, [], {"main": main}) for i in (1, 2, 3)]

    def interval(self) -> list:
        self.calls.append("interval")
        return []

    def applied(self) -> list:
        return []

    def lateness(self) -> tuple[float, float]:
        self.calls.append("lateness")
        return 0.0, 0.0

    def start_replay(self) -> None:
        self.calls.append("replay")

    def stop(self) -> None:
        self.calls.append("stop")


class FakeTarget:
    def __init__(self) -> None:
        self.cameras: dict[str, str] = {}

    def add_camera(self, camera: str, *_: object) -> str:
        self.cameras[f"t{len(self.cameras) + 1}"] = camera
        return f"t{len(self.cameras)}"

    def remove_camera(self, tid: str) -> None:
        del self.cameras[tid]

    def list_cameras(self) -> list:
        return []


@pytest.fixture
def faked(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> SimpleNamespace:
    """The session's children and target faked; collect() records the windows it judged
    and fails a step of three cameras."""
    import simulator.lab.collect as collect
    import simulator.lab.session as session

    f = SimpleNamespace(gen=FakeGenerator(), target=FakeTarget(), judged=[])
    monkeypatch.setattr(session.Generator, "start", lambda *a: f.gen)
    monkeypatch.setattr(session, "open_target", lambda *a: f.target)

    def fake_collect(ledger, target, city, window, slos, missed, only=None, actions_from=None):  # noqa: ANN001, ANN202, PLR0913
        f.judged.append((window, only, actions_from))
        failing = only is not None and len(only) == 3
        check = SimpleNamespace(name="frames", value=0.5, threshold=0.95, passed=not failing)
        return SimpleNamespace(checks=[check], harness={"fell_behind": False}, passed=True)

    monkeypatch.setattr(collect, "collect", fake_collect)
    f.opts = LabOptions(scenario="s.yaml", target="rest", host="http://h", out=tmp_path,
                        load=False, interval_s=0.02, warmup_s=0, settle_s=0,
                        duration_s=0.05, mapping="m.yaml")  # fmt: skip
    f.inputs = RunInputs(tmp_path / "run", [])  # no actions: no load
    return f


def _ledger(out: Path) -> tuple[dict, list[str], int]:
    ledger = Ledger.read(out / "ledger.sqlite")
    try:
        cams = [c for (c,) in ledger.rows("SELECT camera FROM cameras ORDER BY registered")]
        return ledger.facts(), cams, ledger.rows("SELECT count(DISTINCT t) FROM health")[0][0]
    finally:
        ledger.close()


def test_a_run_is_one_hold(faked: SimpleNamespace) -> None:
    seen: list[float] = []
    run_lab(None, faked.opts, faked.inputs, lambda p: seen.append(p.elapsed_s))  # type: ignore[arg-type]
    facts, cams, health = _ledger(faked.opts.out)
    ((window, only, since),) = faked.judged
    assert window == (facts["started"], facts["ended"]) and only is None and since is None
    assert cams == ["cam-1", "cam-2", "cam-3"] and seen and health == len(seen) + 1
    assert facts["attached"] == {"mapping": "m.yaml"} and "interrupted" not in facts
    # counted from the warm-up's end; the generator stopped before the target was asked
    # and the send lateness from the replay's start, not the warm-up's (issue 18)
    assert faked.gen.calls[:3] == ["interval", "replay", "lateness"]
    assert "stop" in faked.gen.calls
    assert faked.target.cameras == {}  # taken out again


def test_a_capacity_search_is_a_loop_of_attach_and_hold(faked: SimpleNamespace) -> None:
    steps, intervals = [], []
    c = find_capacity(None, faked.opts, faked.inputs, 1, 0.05, steps.append,  # type: ignore[arg-type]
                      lambda n, held: intervals.append(n))  # fmt: skip
    assert [(s.cameras, s.passed) for s in steps] == [(1, True), (2, True), (3, False)]
    assert [only for _, only, _ in faked.judged] == [{"cam-1"}, {"cam-1", "cam-2"},
                                                     {"cam-1", "cam-2", "cam-3"}]  # fmt: skip
    for s, (window, _, since) in zip(steps, faked.judged, strict=True):
        assert window == (s.start, s.end) and since == s.start - faked.opts.interval_s
    assert sorted(set(intervals)) == [1, 2, 3]
    written = json.loads((faked.opts.out / "capacity.json").read_text())
    assert written == c.to_dict() and written["sustained"] == 2
    facts, cams, _ = _ledger(faked.opts.out)
    assert facts["find_capacity"] and facts["step"] == 1 and facts["ended"] >= steps[-1].end
    assert cams == ["cam-1", "cam-2", "cam-3"] and faked.target.cameras == {}


def _ctrl_c(*_: object) -> None:
    raise KeyboardInterrupt


def test_ctrl_c_ends_a_run_early_and_still_judges_it(faked: SimpleNamespace) -> None:
    faked.opts.duration_s = 60.0
    run_lab(None, faked.opts, faked.inputs, _ctrl_c)  # type: ignore[arg-type]
    facts, _, _ = _ledger(faked.opts.out)
    ((window, _, _),) = faked.judged
    assert facts["interrupted"] and window == (facts["started"], facts["ended"])
    assert window[1] - window[0] < 5 and faked.target.cameras == {}


def test_ctrl_c_ends_a_search_at_the_step_held(faked: SimpleNamespace) -> None:
    steps: list = []
    c = find_capacity(None, faked.opts, faked.inputs, 1, 60.0, steps.append, _ctrl_c)  # type: ignore[arg-type]
    assert [(s.cameras, s.passed) for s in steps] == [(1, True)] and c.sustained == 1
    facts, cams, _ = _ledger(faked.opts.out)
    assert facts["interrupted"] and cams == ["cam-1"] and faked.target.cameras == {}
