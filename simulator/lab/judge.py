"""The verdict: what the target recorded against what the cameras produced and the harness
broke.

Pure computation on plain data (the ledger's rows, the target's recordings and what the lab
read of its logs): recording gaps explained by an injected outage or not, recordings that
hold far fewer frames than their span, how the target noticed each outage and how soon it
recorded again, frames recorded against frames produced, the API's latencies, and pass or fail
per SLO. What the harness itself failed to do (frames it skipped because it fell behind) is
never counted against the target, and is reported first; what a target that stopped reading
left unsent (its connection full: backpressure) is the target's loss.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from simulator.lab.spans import Span, complement, distinct, inside, overlap, union
from simulator.lab.verdict import (
    STOPPED_READING,
    ApiStats,
    CameraCapture,
    CameraFrames,
    Check,
    Degradation,
    Gap,
    Interval,
    Outage,
    Shortfall,
    Slos,
    Verdict,
)

#: How long after the generator caught up a target's capture rate may still average frames it
#: sent late: ZoneMinder reports CaptureFPS every FPSReportInterval frames (100: 10 s at 10 fps).
CAPTURE_AVERAGES_S = 10.0


def judge(
    window: Span,
    cameras: Sequence[str],
    outages: list[Outage],
    recordings: dict[str, list[tuple[float, float, int]]],
    sent: dict[str, list[tuple]],
    actions: Sequence[tuple[str, float | None, bool]],
    harness: dict[str, Any],
    slos: Slos | None = None,
    degradations: Sequence[Degradation] = (),
    frames_until: dict[str, float] | None = None,
    capture: dict[str, tuple[float, list[tuple[float, float]]]] | None = None,
    fps: dict[str, float] | None = None,
) -> Verdict:
    """The verdict of a run over `window`: `recordings` per camera are (start, end, frames),
    `sent` per camera the generator's intervals (`Interval` fields, in order; the first four
    at least); `actions` are (kind, latency_s, ok); `harness` holds the generator's own
    health (lateness_p99_s, frame_interval_s, late_skips, missed_events, and `behind`: the
    spans when it fell behind). Frames are compared
    up to `frames_until` a camera (the start of a recording still open when the target was
    asked: its frame count is not final). `capture` holds, per camera, its frame rate and the
    target's (t, capture fps) samples. `fps` gives each camera's frame rate, from which what
    it produced is counted; without it, what was produced is what was sent plus what the
    target did not take."""
    slos = slos or Slos()
    behind = [tuple(s) for s in harness.get("behind", ())]
    gaps: list[Gap] = []
    shortfalls: list[Shortfall] = []
    frames: list[CameraFrames] = []
    captures: list[CameraCapture] = []
    by_camera = {c: [o for o in outages if o.camera == c] for c in cameras}
    for cam in cameras:
        recs = recordings.get(cam, [])
        spans = [(a, b) for a, b, _ in recs]
        rows = [Interval(*r) for r in sent.get(cam, [])]
        for o in by_camera[cam]:
            # a recording that runs on through the outage's end never stopped (a short
            # freeze the target rode out): it recorded again at once
            through = any(a <= o.end and b >= o.end + slos.gap_tolerance_s for a, b in spans)
            after = [a for a, _ in spans if a >= o.end - slos.gap_tolerance_s]
            o.recovered_after_s = (0.0 if through else
                                   max(0.0, min(after) - o.end) if after else None)  # fmt: skip
            left = window[1] - o.end
            if o.recovered_after_s is None and left < slos.recovery_s:
                o.not_judged = ("still out when the run ended" if left <= slos.gap_tolerance_s
                                else f"back {left:.0f} s before the run ended")  # fmt: skip
        # the generator sent nothing to a playing session that took what it got: the
        # harness's fault, and what the target lost while it recovered from it; but a session
        # that stopped reading lost what it did not take
        blocked = [(r.t0, r.t1) for r in rows if r.target_drops > 0]
        excused = union((r.t0, r.t1 + slos.recovery_s) for r in rows if r.harness_silent)
        # an outage explains what is missing from its start until `recovery_s` after its end;
        # the rest of a gap is unexplained (or the harness's, when it sent nothing)
        allowed = [(o.start - slos.gap_tolerance_s, o.end + slos.recovery_s, o.kind)
                   for o in by_camera[cam]]  # fmt: skip
        out_spans = union((a, b) for a, b, _ in allowed)
        for a, b in complement(spans, window, slos.gap_tolerance_s):
            for w0, w1 in out_spans:
                piece = (max(a, w0), min(b, w1))
                if piece[1] > piece[0]:
                    kind = next(k for x, y, k in allowed if overlap(piece, (x, y)) > 0)
                    gaps.append(Gap(cam, *piece, kind))
            for c, d in complement(out_spans, (a, b), slos.gap_tolerance_s):
                gaps += _unexplained(cam, (c, d), excused, blocked, slos.gap_tolerance_s)
        upto = (window[0], min(window[1], (frames_until or {}).get(cam, window[1])))
        rate = (fps or {}).get(cam)
        once = distinct(recs)
        frames.append(_frames(cam, rows, once, upto, out_spans, rate))
        if rate:
            degraded = [(d.start, d.end, d.kind) for d in degradations if d.camera == cam]
            shortfalls += _shortfalls(cam, once, rows, upto, rate, [*allowed, *degraded], slos)
        if capture and cam in capture:
            cam_fps, samples = capture[cam]
            judged = [(t, f) for t, f in samples if window[0] <= t <= window[1]
                      and not any(a <= t <= b for a, b in out_spans)]  # fmt: skip
            # a rate read while the generator itself fell behind (or soon after: the target's
            # figure averages its last seconds) is what it was sent, as late as it came
            kept = [f for t, f in judged if not any(a <= t <= b + CAPTURE_AVERAGES_S
                                                    for a, b in behind)]  # fmt: skip
            med = float(np.median(kept)) if kept else None
            captures.append(CameraCapture(cam, cam_fps, len(kept), med, min(kept, default=None),
                                          len(judged) - len(kept)))  # fmt: skip
    for d in degradations:
        during = [(d.start, d.end)]
        outside = complement(during, window, 0.0)
        d.sent = round(sum(inside(r, window, outside) for r in sent.get(d.camera, [])))
        d.recorded = sum(inside(r, window, outside) for r in distinct(recordings.get(d.camera, [])))
    api = _api_stats(actions)
    checks = _checks(outages, gaps, frames, api, slos, captures, shortfalls)
    return Verdict(window, harness, outages, gaps, frames, api, checks, dict(recordings),
                   list(degradations), shortfalls, captures)  # fmt: skip


def _unexplained(cam: str, gap: Span, excused: Sequence[Span], blocked: Sequence[Span],
                 tolerance_s: float) -> list[Gap]:  # fmt: skip
    """A gap no outage explains, split where the harness's own silence excuses it (only that
    stretch and the recovery after it, and never while the target was not reading)."""
    stopped = any(overlap(gap, s) > 0 for s in blocked)
    cause = STOPPED_READING if stopped else ""
    if stopped or not any(overlap(gap, s) > 0 for s in excused):
        return [Gap(cam, *gap, None, False, cause)]
    out = [Gap(cam, max(gap[0], x), min(gap[1], y), None, True)
           for x, y in excused if overlap(gap, (x, y)) > 0]  # fmt: skip
    out += [Gap(cam, c, d, None) for c, d in complement(excused, gap, tolerance_s)]
    return sorted(out, key=lambda g: g.start)


def _not_produced(rows: Sequence[Interval], upto: Span, outside: Sequence[Span]) -> float:
    """Frames the camera did not produce for the target over `upto` less `outside`: those
    the harness skipped itself and those injected faults withheld (pro rata)."""
    return sum(inside((r.t0, r.t1, r.late_skips + r.fault_drops), upto, outside) for r in rows)


def _frames(cam: str, rows: Sequence[Interval], once: Sequence[tuple[float, float, float]],
            upto: Span, out_spans: Sequence[Span], fps: float | None) -> CameraFrames:  # fmt: skip
    """One camera's frames produced, sent and recorded over `upto`, and outside outages."""
    n_sent = round(sum(inside(r, upto, []) for r in rows))
    n_out = round(sum(inside(r, upto, out_spans) for r in rows))
    rec = sum(inside(r, upto, []) for r in once)
    rec_out = sum(inside(r, upto, out_spans) for r in once)
    drops = round(sum(inside((r.t0, r.t1, r.target_drops), upto, []) for r in rows))
    late = round(sum(inside((r.t0, r.t1, r.late_skips), upto, []) for r in rows))
    if fps:
        free = (upto[1] - upto[0]) - sum(overlap(upto, s) for s in out_spans)
        produced = fps * max(0.0, upto[1] - upto[0]) - _not_produced(rows, upto, [])
        produced_out = fps * max(0.0, free) - _not_produced(rows, upto, out_spans)
    else:
        produced = n_sent + drops
        produced_out = n_out + sum(inside((r.t0, r.t1, r.target_drops), upto, out_spans)
                                   for r in rows)  # fmt: skip
    return CameraFrames(cam, n_sent, rec, n_out, rec_out, max(0.0, produced),
                        max(0.0, produced_out), drops, late)  # fmt: skip


def _shortfalls(
    cam: str, once: Sequence[tuple[float, float, float]], rows: Sequence[Interval], upto: Span,
    fps: float, faults: Sequence[tuple[float, float, str]], slos: Slos,
) -> list[Shortfall]:  # fmt: skip
    """Closed recordings that lost more of the camera's video than the frames SLO allows and
    more than a gap's tolerance: (produced - held) / fps seconds."""
    out = []
    for a, b, n in once:
        if b <= a or b > upto[1] + slos.gap_tolerance_s:
            continue  # still open when asked, or its count is not final
        produced = fps * (b - a) - _not_produced(rows, (a, b), [])
        lost_s = (produced - n) / fps
        most = max(slos.gap_tolerance_s, (1 - slos.frames_ratio) * (b - a))
        if lost_s > most:
            # a fault excuses at most the seconds of the recording it covers
            covered = sum(overlap((a, b), f) for f in union((x, y) for x, y, _ in faults))
            why = None
            if lost_s - covered <= most:
                why = next(k for x, y, k in faults if overlap((a, b), (x, y)) > 0)
            out.append(Shortfall(cam, a, b, round(n), round(produced, 1), round(lost_s, 1), why,
                                 round(min(lost_s, covered), 1)))  # fmt: skip
    return out


def _api_stats(actions: Sequence[tuple[str, float | None, bool]]) -> list[ApiStats]:
    out = []
    for kind in sorted({k for k, _, _ in actions}):
        rows = [(lat, ok) for k, lat, ok in actions if k == kind]
        lat = np.array([x for x, ok in rows if ok and x is not None], dtype=float)
        p50, p95, p99 = np.percentile(lat, [50, 95, 99]) if lat.size else [float("nan")] * 3
        errors = sum(not ok for _, ok in rows)
        out.append(ApiStats(kind, len(rows), errors, float(p50), float(p95), float(p99)))
    return out


def _checks(
    outages: list[Outage], gaps: list[Gap], frames: list[CameraFrames], api: list[ApiStats],
    slos: Slos, captures: Sequence[CameraCapture] = (), shortfalls: Sequence[Shortfall] = (),
) -> list[Check]:  # fmt: skip
    unexplained = [g for g in gaps if g.explained_by is None and not g.harness]
    lost = [s for s in shortfalls if s.explained_by is None]
    checks = [
        Check("unexplained recording gaps", not unexplained, len(unexplained), 0,
              ", ".join(f"{g.camera} {g.length_s:.0f} s" + (f" ({g.cause})" if g.cause else "")
                        for g in unexplained[:5])),
        Check("video lost inside recordings", not lost, len(lost), 0,
              ", ".join(f"{s.camera} {s.lost_s:.0f} s of a {s.end - s.start:.0f} s recording"
                        for s in lost[:5])),
    ]  # fmt: skip
    for o in outages:
        ok = o.recovered_after_s is not None and o.recovered_after_s <= slos.recovery_s
        value = None if o.recovered_after_s is None else round(o.recovered_after_s, 1)
        note = "never recorded again" if value is None else ""
        if o.not_judged:  # not the target's failure: there was no time to recover
            ok, note = True, f"not judged: {o.not_judged}"
        checks.append(Check(f"recovery after {o.kind} on {o.camera}", ok, value,
                            slos.recovery_s, note))  # fmt: skip
    for f in frames:
        r = f.ratio
        # nothing to compare (every recording still open, or every frame inside an outage):
        # not a failure, and what was not recorded at all is a gap above
        note = "nothing to compare: no closed recording outside outages" if r is None else ""
        value = None if r is None else round(r, 4)
        checks.append(Check(f"frames recorded / produced, {f.camera}",
                            r is None or r >= slos.frames_ratio, value, slos.frames_ratio,
                            note))  # fmt: skip
        if f.target_drops and f.produced > 0:  # backpressure: what overload shows first
            share = f.target_drops / f.produced
            most = round(1 - slos.frames_ratio, 4)
            checks.append(Check(f"frames the target did not take, {f.camera}", share <= most,
                                round(share, 4), most,
                                f"{f.target_drops} frames: {STOPPED_READING}"))  # fmt: skip
    # the target's own figure may not be refreshed while it stalls (ZoneMinder's CaptureFPS
    # kept "25.00" through a 60 s SIGSTOP): what the recordings lost says otherwise
    lost_on = {g.camera for g in unexplained} | {s.camera for s in lost}
    for c in captures:
        least = round(slos.capture_ratio * c.fps, 2)
        left_out = (f"{c.discounted} samples left out: read while the generator fell behind"
                    if c.discounted else "")  # fmt: skip
        if c.median_fps is None:
            if c.discounted:  # not the target's failure, and not its pass either: said so
                checks.append(Check(f"target capture fps, {c.camera}", True, None, least,
                                    f"not judged: {left_out}"))  # fmt: skip
            continue
        ok = c.median_fps >= least
        notes = [left_out, "the target's own rate did not show what its recordings lost"
                 if ok and c.camera in lost_on else ""]  # fmt: skip
        checks.append(Check(f"target capture fps, {c.camera}", ok, round(c.median_fps, 2),
                            least, "; ".join(n for n in notes if n)))  # fmt: skip
    for a in api:
        rate = a.errors / a.count if a.count else 0.0
        checks.append(Check(f"API {a.kind} error rate", rate <= slos.api_error_rate,
                            round(rate, 4), slos.api_error_rate))  # fmt: skip
        if not np.isnan(a.p99_s):
            checks.append(Check(f"API {a.kind} p95 s", a.p95_s <= slos.api_p95_s,
                                round(a.p95_s, 3), slos.api_p95_s))  # fmt: skip
            checks.append(Check(f"API {a.kind} p99 s", a.p99_s <= slos.api_p99_s,
                                round(a.p99_s, 3), slos.api_p99_s))  # fmt: skip
    return checks
