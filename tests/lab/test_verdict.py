"""The verdict on plain data: gaps explained by an outage or not, recovery, frames recorded
against produced, video lost inside recordings, what the harness failed to do and what the
target did not take, API statistics."""

from __future__ import annotations

import pytest

from simulator.lab.judge import judge
from simulator.lab.spans import complement, distinct, union
from simulator.lab.verdict import STOPPED_READING, Degradation, Interval, Outage, Slos
from simulator.report.verdict import verdict_text

W = (0.0, 300.0)


def sent_every_10s(
    fps: float, silent: tuple[float, float] | None = None, sessions: int = 1
) -> list:
    """(start, end, frames, sessions) every 10 s; nothing sent while `silent`."""
    rows = []
    for t in range(0, 300, 10):
        quiet = silent is not None and silent[0] <= t < silent[1]
        rows.append((float(t), t + 10.0, 0 if quiet else int(10 * fps), sessions))
    return rows


def test_union_and_complement() -> None:
    assert union([(5, 7), (0, 2), (1, 3)]) == [(0, 3), (5, 7)]
    assert complement([(0, 100), (101, 200), (250, 300)], W, 2.0) == [(200, 250)]
    assert complement([], W, 2.0) == [W]


def test_an_outage_explains_its_gap_and_recovery_is_measured() -> None:
    outage = Outage("a", "camera_down", 100.0, 140.0)
    recs = {"a": [(0.0, 101.0, 1010), (146.0, 300.0, 1540)], "b": [(0.0, 300.0, 3000)]}
    sent = {"a": sent_every_10s(10, silent=(100, 140)), "b": sent_every_10s(10)}
    v = judge(W, ["a", "b"], [outage], recs, sent, [], {}, Slos())
    assert [(g.camera, g.start, g.end, g.explained_by) for g in v.gaps] == [
        ("a", 101.0, 146.0, "camera_down")
    ]
    assert outage.recovered_after_s == pytest.approx(6.0)
    fa, fb = v.frames
    assert fb.sent == 3000 and fb.ratio == pytest.approx(1.0)
    # outside the outage (and the recovery allowance after it) a recorded 10 fps as sent
    assert fa.ratio == pytest.approx(1.0, abs=0.01)
    assert v.passed, [c for c in v.checks if not c.passed]


def test_a_gap_no_fault_explains_fails_and_slow_recovery_fails() -> None:
    outage = Outage("a", "camera_down", 100.0, 140.0)
    recs = {"a": [(0.0, 100.0, 1000), (200.0, 250.0, 500), (260.0, 300.0, 400)]}
    v = judge(W, ["a"], [outage], recs, {"a": sent_every_10s(10)}, [], {}, Slos())
    unexplained = [g for g in v.gaps if g.explained_by is None]
    # beyond the 30 s allowance the slow recovery is the target's loss too
    assert [(g.start, g.end) for g in unexplained] == [(170.0, 200.0), (250.0, 260.0)]
    failed = {c.name for c in v.checks if not c.passed}
    assert "unexplained recording gaps" in failed
    assert "recovery after camera_down on a" in failed  # 60 s > 30 s
    assert not v.passed


def test_what_the_generator_did_not_send_is_not_the_targets_fault() -> None:
    recs = {"a": [(0.0, 150.0, 1500), (170.0, 300.0, 1300)]}
    sent = {"a": sent_every_10s(10, silent=(150, 170))}
    v = judge(W, ["a"], [], recs, sent, [], {}, Slos())
    assert [(g.harness, g.explained_by) for g in v.gaps] == [(True, None)]
    assert v.passed and v.frames[0].ratio == pytest.approx(1.0)
    # but nothing sent because the target was not connected is the target's gap
    idle = sent_every_10s(10, silent=(150, 170))
    idle = [(a, b, n, 0 if n == 0 else 1) for a, b, n, _ in idle]
    v = judge(W, ["a"], [], recs, {"a": idle}, [], {}, Slos())
    assert [(g.harness, g.explained_by) for g in v.gaps] == [(False, None)] and not v.passed


def test_api_statistics_and_error_rate() -> None:
    actions = [("review", 0.1 * k, True) for k in range(1, 101)] + [("review", None, False)]
    v = judge(W, [], [], {}, {}, actions, {}, Slos(api_p99_s=5.0, api_error_rate=0.001))
    (a,) = v.api
    assert a.count == 101 and a.errors == 1
    assert a.p50_s == pytest.approx(5.05) and a.p99_s == pytest.approx(9.901)
    failed = {c.name for c in v.checks if not c.passed}
    assert failed == {"API review error rate", "API review p95 s", "API review p99 s"}


def test_what_is_lost_beyond_the_recovery_allowance_is_unexplained() -> None:
    """Recording resumed after the outage and stopped again: that second loss is the
    target's, though it starts within the allowance."""
    outage = Outage("a", "camera_down", 100.0, 140.0)
    recs = {"a": [(0.0, 100.0, 1000), (150.0, 160.0, 100)]}
    v = judge(W, ["a"], [outage], recs, {"a": sent_every_10s(10)}, [], {}, Slos())
    assert [(g.start, g.end, g.explained_by) for g in v.gaps] == [
        (100.0, 150.0, "camera_down"),
        (160.0, 170.0, "camera_down"),
        (170.0, 300.0, None),
    ]
    assert outage.recovered_after_s == pytest.approx(10.0) and not v.passed


def test_routine_log_lines_are_not_noticing() -> None:
    from simulator.lab.collect import _mentions

    info = "zmc_m3 INF labcam-002: 220 - Capturing at 10.00 fps"
    error = "zmc_m3 ERR Unable to open input rtsp://127.0.0.1:1/labcam-002/main"
    assert not _mentions(info, "labcam-002", "3")
    assert _mentions(error, "labcam-002", "3") and _mentions("zmc_m3 ERR whatever", "x", "3")
    assert _mentions("motion: labcam-002 lost connection", "labcam-002", "7")  # no level known


def test_frames_two_recordings_both_hold_count_once() -> None:
    # motion's movies: each starts with 3 s the previous one already holds
    recs = {"a": [(0.0, 103.0, 1030), (100.0, 203.0, 1030), (200.0, 300.0, 1000)]}
    v = judge(W, ["a"], [], recs, {"a": sent_every_10s(10)}, [], {}, Slos())
    assert v.frames[0].recorded == pytest.approx(3000.0)
    assert distinct(recs["a"]) == [(0.0, 103.0, 1030.0), (103.0, 203.0, 1000.0),
                                   (203.0, 300.0, 970.0)]  # fmt: skip
    assert not v.gaps


def test_the_targets_capture_rate_is_judged_outside_outages() -> None:
    outage = Outage("a", "camera_down", 100.0, 140.0)
    recs = {"a": [(0.0, 101.0, 1010), (146.0, 300.0, 1540)], "b": [(0.0, 300.0, 3000)]}
    sent = {"a": sent_every_10s(10, silent=(100, 140)), "b": sent_every_10s(10)}
    # a: nothing captured while down and recovering, 105-165 s (not held against it);
    # b: captures at 8 fps throughout
    a = [(float(t), 0.0 if 100 <= t < 175 else 10.0) for t in range(5, 300, 10)]
    b = [(float(t), 8.0) for t in range(5, 300, 10)]
    v = judge(W, ["a", "b"], [outage], recs, sent, [], {}, Slos(), capture={
        "a": (10.0, a), "b": (10.0, b)})  # fmt: skip
    checks = {c.name: c for c in v.checks}
    assert checks["target capture fps, a"].passed and checks["target capture fps, a"].value == 10
    assert not checks["target capture fps, b"].passed
    assert checks["target capture fps, b"].threshold == 9.0
    ca, cb = v.capture
    assert ca.samples == 30 - 7 and ca.min_fps == 10.0 and cb.samples == 30
    # the same rate read while the generator fell behind is the harness's, and said so; not
    # when it fell behind elsewhere: b's low rate outside those spans is still its own
    late = {"fell_behind": True, "lateness_p99_s": 0.3, "behind": [[0.0, 300.0]]}
    v = judge(W, ["a", "b"], [outage], recs, sent, [], late, Slos(), capture={
        "a": (10.0, a), "b": (10.0, b)})  # fmt: skip
    held = {c.name: c for c in v.checks}["target capture fps, b"]
    assert held.passed and held.value is None and held.note.startswith("not judged: 30 samples")
    late["behind"] = [[50.0, 90.0]]
    v = judge(W, ["a", "b"], [outage], recs, sent, [], late, Slos(), capture={
        "a": (10.0, a), "b": (10.0, b)})  # fmt: skip
    held = {c.name: c for c in v.checks}["target capture fps, b"]
    assert not held.passed and held.value == 8 and v.capture[1].samples == 30 - 5
    assert "5 samples left out: read while the generator fell behind" in held.note


def test_a_recording_that_runs_through_a_short_freeze_recovers_at_once() -> None:
    freeze = Outage("a", "stream_freeze", 100.0, 101.0)
    recs = {"a": [(0.0, 150.0, 1500), (150.0, 300.0, 1500)]}  # the next event: 49 s later
    v = judge(W, ["a"], [freeze], recs, {"a": sent_every_10s(10)}, [], {}, Slos())
    assert freeze.recovered_after_s == 0.0 and v.passed


@pytest.mark.parametrize(
    ("end", "why"), [(300.0, "still out when the run ended"), (285.0, "back 15 s before")]
)
def test_recovery_is_not_judged_when_the_run_ends_too_soon_after_the_outage(end, why) -> None:
    outage = Outage("a", "camera_down", 200.0, end)
    recs = {"a": [(0.0, 200.0, 2000)]}
    v = judge(W, ["a"], [outage], recs, {"a": sent_every_10s(10, silent=(200, end))}, [], {},
              Slos())  # fmt: skip
    check = next(c for c in v.checks if c.name == "recovery after camera_down on a")
    assert check.passed and why in check.note and outage.recovered_after_s is None
    assert v.passed, [c for c in v.checks if not c.passed]


def test_an_outage_with_time_left_that_never_recovers_still_fails() -> None:
    outage = Outage("a", "camera_down", 100.0, 200.0)
    recs = {"a": [(0.0, 100.0, 1000)]}
    v = judge(W, ["a"], [outage], recs, {"a": sent_every_10s(10)}, [], {}, Slos())
    assert not outage.not_judged and not v.passed


def test_a_target_that_stopped_reading_is_blamed_not_excused() -> None:
    """A recorder whose capture stalled: the camera's frames were due, the connection was
    full, nothing was sent. That is the target's loss, not the harness's."""
    recs = {"a": [(0.0, 150.0, 1500), (213.0, 300.0, 870)]}
    rows = [Interval(a, b, n, s, due=100, target_drops=100 if n == 0 else 0)
            for a, b, n, s in sent_every_10s(10, silent=(150, 210))]  # fmt: skip
    v = judge(W, ["a"], [], recs, {"a": rows}, [], {}, Slos(), fps={"a": 10.0})
    (gap,) = v.gaps
    assert (gap.harness, gap.explained_by, gap.cause) == (False, None, STOPPED_READING)
    assert not v.passed
    assert "the target stopped reading" in verdict_text(v)
    # the same silence with the generator late and the connection taking all: the harness's
    rows = [Interval(a, b, n, s, due=100, late_skips=100 if n == 0 else 0)
            for a, b, n, s in sent_every_10s(10, silent=(150, 210))]  # fmt: skip
    v = judge(W, ["a"], [], recs, {"a": rows}, [], {}, Slos(), fps={"a": 10.0})
    assert [(g.harness, g.cause) for g in v.gaps] == [(True, "")] and v.passed


def test_frames_are_compared_with_what_the_camera_produced_not_with_what_was_sent() -> None:
    """A 30 s stall the target rode out inside one recording: the frames it did not take are
    left out of "sent", so recorded / sent looks whole; against the camera's 25 fps the
    recording holds 7 s of 36.8 s, and 30 s of video are lost."""
    w = (0.0, 480.0)
    recs = {"a": [(0.0, 115.7, 2892), (115.7, 152.5, 175), (152.5, 480.0, 8187)]}
    rows = []
    for t in range(0, 480, 10):
        stalled = 118 <= t < 148
        rows.append(Interval(float(t), t + 10.0, 0 if stalled else 250, 1, due=250,
                             target_drops=250 if stalled else 0))  # fmt: skip
    v = judge(w, ["a"], [], recs, {"a": rows}, [], {}, Slos(), fps={"a": 25.0})
    (f,) = v.frames
    assert f.outside_outages_sent == 250 * 45 and f.target_drops == 750
    assert f.outside_outages_produced == pytest.approx(12_000)
    assert f.ratio == pytest.approx((2892 + 175 + 8187) / 12_000)
    (s,) = v.shortfalls
    assert (s.start, s.end, s.frames, s.explained_by) == (115.7, 152.5, 175, None)
    assert s.lost_s == pytest.approx(36.8 - 7.0, abs=0.1)
    assert not v.passed and any(c.name == "video lost inside recordings" and not c.passed
                                for c in v.checks)  # fmt: skip
    # frames the harness skipped itself are not produced for the target: not its loss
    rows = [r._replace(late_skips=r.target_drops, target_drops=0) for r in rows]
    v = judge(w, ["a"], [], recs, {"a": rows}, [], {}, Slos(), fps={"a": 25.0})
    assert not v.shortfalls and v.frames[0].late_skips == 750


def test_a_thin_recording_over_an_injected_fault_is_explained() -> None:
    recs = {"a": [(0.0, 100.0, 1000), (100.0, 160.0, 200), (160.0, 300.0, 1400)]}
    rows = [Interval(a, b, n, s, due=100) for a, b, n, s in sent_every_10s(10)]
    stall = Outage("a", "stream_freeze", 110.0, 150.0)
    v = judge(W, ["a"], [stall], recs, {"a": rows}, [], {}, Slos(), fps={"a": 10.0})
    assert [s.explained_by for s in v.shortfalls] == ["stream_freeze"]
    assert v.passed, [c for c in v.checks if not c.passed]
    # a recording a little short of its span (within the frames SLO) is no shortfall
    recs = {"a": [(0.0, 300.0, 2900)]}
    v = judge(W, ["a"], [], recs, {"a": rows}, [], {}, Slos(), fps={"a": 10.0})
    assert not v.shortfalls and v.passed


def test_a_capture_rate_the_target_did_not_refresh_is_flagged_by_what_was_lost() -> None:
    recs = {"a": [(0.0, 150.0, 1500), (213.0, 300.0, 870)]}
    rows = [Interval(a, b, n, s, due=100, target_drops=100 if n == 0 else 0)
            for a, b, n, s in sent_every_10s(10, silent=(150, 210))]  # fmt: skip
    stale = {"a": (10.0, [(float(t), 10.0) for t in range(0, 300, 10)])}  # "10 fps" throughout
    v = judge(W, ["a"], [], recs, {"a": rows}, [], {}, Slos(), capture=stale, fps={"a": 10.0})
    (c,) = [c for c in v.checks if c.name.startswith("target capture fps")]
    assert c.passed and "did not show" in c.note and not v.passed


def test_frames_the_target_did_not_take_fail_past_what_the_frames_slo_allows() -> None:
    """A target that falls behind reading without a gap (a capacity step's overload)."""
    recs = {"a": [(0.0, 300.0, 2850)]}
    for dropped, passed in ((3, True), (20, False)):
        rows = [Interval(a, b, n - dropped, s, due=100, target_drops=dropped)
                for a, b, n, s in sent_every_10s(10)]  # fmt: skip
        v = judge(W, ["a"], [], recs, {"a": rows}, [], {}, Slos(), fps={"a": 10.0})
        (c,) = [c for c in v.checks if c.name.startswith("frames the target did not take")]
        assert c.passed is passed and c.value == pytest.approx(dropped / 100)
        assert STOPPED_READING in c.note


def test_a_short_fault_inside_a_long_thin_recording_excuses_only_its_own_seconds() -> None:
    """A 1 s jitter at the start of a 600 s recording that lost 60 s explains 1 s of it."""
    w = (0.0, 600.0)
    recs = {"a": [(0.0, 600.0, 5400)]}
    rows = [Interval(float(t), t + 10.0, 100, 1, due=100) for t in range(0, 600, 10)]
    jitter = Degradation("a", "jitter", 5.0, 6.0)
    v = judge(w, ["a"], [], recs, {"a": rows}, [], {}, Slos(), [jitter], fps={"a": 10.0})
    (s,) = v.shortfalls
    assert (s.lost_s, s.excused_s, s.explained_by) == (60.0, 1.0, None) and not v.passed


def test_the_harness_excuses_only_its_own_silence_and_the_recovery_after_it() -> None:
    """A 10 s hiccup of the generator, then 300 s without a recording: the target had
    `recovery_s` to record again; the rest is its gap."""
    w = (0.0, 3600.0)
    recs = {"a": [(0.0, 1000.0, 10_000), (1300.0, 3600.0, 23_000)]}
    rows = [Interval(float(t), t + 10.0, 0 if t == 1000 else 100, 1, due=100,
                     late_skips=100 if t == 1000 else 0) for t in range(0, 3600, 10)]  # fmt: skip
    v = judge(w, ["a"], [], recs, {"a": rows}, [], {}, Slos(), fps={"a": 10.0})
    spans = [(g.start, g.end, g.harness) for g in v.gaps]
    assert spans == [(1000.0, 1040.0, True), (1040.0, 1300.0, False)] and not v.passed
    # a fault that withheld every frame is not the harness's silence
    rows = [r._replace(late_skips=0, fault_drops=100) if r.t0 == 1000 else r for r in rows]
    assert not any(Interval(*r).harness_silent for r in rows)
