"""What the lab reads back after a run, with a stand-in for the target's answers: a routine
section end is not a fault noticed, a closing because of the fault is."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from simulator.lab.collect import collect
from simulator.lab.ledger import Ledger, Sent
from simulator.lab.verdict import Slos
from simulator.model.city import City
from simulator.scenario import load_scenario
from simulator.targets.base import RecordedSpan

LAB = Path(__file__).parents[1] / "data" / "lab.yaml"
T0 = 1_796_000_000.0


def _at(t: float) -> datetime:
    return datetime.fromtimestamp(T0 + t, UTC)


class Answers:
    """The target's events and log lines, as ZoneMinder would give them."""

    def __init__(self, events: list[RecordedSpan], log: list[str]) -> None:
        self._events, self._log = events, log

    def events(self, target_id: str, since: datetime, until: datetime) -> list[RecordedSpan]:
        return [e for e in self._events if e.target_id == target_id]

    def log_lines(self, since: datetime) -> list[str]:
        return self._log


def _ledger(tmp_path: Path) -> Ledger:
    ledger = Ledger(tmp_path / "ledger.sqlite")
    ledger.camera("labcam-001", "1", "rtsp://x", 10.0, 320, 180, T0)
    ledger.record(
        sent=[Sent("labcam-001", "main", T0 + t, T0 + t + 10, 100, 40_000, 1, due=100)
              for t in range(0, 180, 10)],
        faults=[(1, "bitrate_spike", "labcam-001", None, None, T0 + 59.5, T0 + 80.0, 59.5,
                 '{"factor": 3}', "timeline")],
    )  # fmt: skip
    return ledger


def _event(rid: str, a: float, b: float) -> RecordedSpan:
    return RecordedSpan(rid, "1", _at(a), _at(b), int((b - a) * 10), duration_s=b - a)


def test_a_section_end_the_target_forced_is_not_noticing(tmp_path: Path) -> None:
    city = City.of(load_scenario(LAB))
    events = [_event("7", 0, 60), _event("8", 60, 120), _event("9", 120, 180)]
    line = "labcam-001: 600 - Closing event 7, section end forced 1796000060 - 1796000000 = 60"
    routine = Answers(events, [f"{_at(60).isoformat()} zmc_m1 INF {line} >= 60"])
    ledger = _ledger(tmp_path)
    v = collect(ledger, routine, city, (T0, T0 + 180), Slos(), 0)
    (spike,) = v.degradations
    assert spike.kind == "bitrate_spike" and spike.noticed == []
    # the same event closed without the section's word for it: closed by the spike
    v = collect(ledger, Answers(events, []), city, (T0, T0 + 180), Slos(), 0)
    assert v.degradations[0].noticed == ["recording closed"]
    ledger.close()


def test_an_event_left_open_by_a_capture_that_died_ends_where_it_last_said(
    tmp_path: Path,
) -> None:
    """ZoneMinder's watchdog killed a stalled capture process: its event stays open in the
    database for ever (no end, the length and frames of its last update), and a new one
    begins. It is not "still recording": the time after what it holds is a gap."""
    city = City.of(load_scenario(LAB))
    dead = RecordedSpan("7", "1", _at(0), None, 420, duration_s=42.0)  # stalled at +42 s
    events = [dead, _event("8", 110, 180)]
    ledger = _ledger(tmp_path)
    v = collect(ledger, Answers(events, []), city, (T0, T0 + 180), Slos(), 0)
    (gap,) = v.gaps
    assert (gap.start - T0, gap.end - T0, gap.explained_by) == (42.0, 110.0, None)
    (f,) = v.frames
    assert f.recorded == 420 + 700 and f.ratio is not None and f.ratio < 0.7
    ledger.close()


def test_the_harness_health_comes_from_the_window_only(tmp_path: Path) -> None:
    """A capacity step's "the generator fell behind" must come from its own samples: not
    from one taken 17 s after its hold ended (the next step's)."""
    city = City.of(load_scenario(LAB))
    ledger = _ledger(tmp_path)
    ledger.record(health=[(T0 + t, "camsim serve", 1.0, 100.0, 0.0075, 0) for t in (10, 100, 181)])
    ledger.record(health=[(T0 + 197, "camsim serve", 1.0, 100.0, 0.25, 40)])  # after the end
    v = collect(ledger, Answers([_event("9", 0, 180)], []), city, (T0, T0 + 180), Slos(), 0)
    assert v.harness["lateness_p99_s"] == 0.0075 and not v.harness["fell_behind"]
    assert v.harness["late_skips"] == 0
    ledger.close()


def test_the_spans_the_generator_fell_behind_in_are_its_late_sampling_intervals(
    tmp_path: Path,
) -> None:
    """Consecutive late intervals make one span; an interval on time ends it (10 fps: a
    frame interval is 0.1 s)."""
    city = City.of(load_scenario(LAB))
    ledger = _ledger(tmp_path)
    late = {10: 0.0075, 20: 0.25, 30: 0.3, 40: 0.0075, 50: 0.2, 60: 0.0075}
    ledger.record(health=[(T0 + t, "camsim serve", 1.0, 100.0, x, 0) for t, x in late.items()])
    v = collect(ledger, Answers([_event("9", 0, 180)], []), city, (T0, T0 + 180), Slos(), 0)
    assert v.harness["behind"] == [[T0 + 10, T0 + 30], [T0 + 40, T0 + 50]]
    ledger.close()


def test_lateness_buckets_tell_a_frame_interval_apart() -> None:
    """A p99 between 20 and 50 ms read as 50 ms > 40 ms: "fell behind" at 25 fps."""
    from simulator.streams.metrics import Histogram

    h = Histogram()
    for _ in range(100):
        h.observe(0.032)
    assert h.quantile(0.99) <= 0.04


def test_a_recording_that_cannot_be_read_holds_nothing(tmp_path: Path) -> None:
    """A movie motion never finished (no index: no length, no frames) is not "still being
    recorded" across the whole run: what it spans is a gap."""
    city = City.of(load_scenario(LAB))
    unreadable = RecordedSpan("1-x.mp4", "1", _at(0), None, 0)
    ledger = _ledger(tmp_path)
    v = collect(ledger, Answers([unreadable], []), city, (T0, T0 + 180), Slos(), 0)
    assert [(g.start - T0, g.end - T0, g.explained_by) for g in v.gaps] == [(0.0, 180.0, None)]
    assert not v.passed
    ledger.close()
