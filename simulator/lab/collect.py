"""After a lab run: the ledger's faults turned into each camera's outages, the target asked
what it recorded and logged, and the verdict judged."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from simulator.lab.judge import judge
from simulator.lab.ledger import Ledger
from simulator.lab.verdict import Degradation, Interval, Outage, Slos, Verdict
from simulator.model.city import City
from simulator.timeline.event import LinkId

NOTICE_WITHIN_S = 15.0  # a log line or a closed recording this soon after a fault starts
HEALTH_SLACK_S = 2.0  # the sample that closes the window is taken just after its end
#: ZoneMinder closing an event at its section length: routine, not a fault noticed.
SECTION_END = re.compile(r"Closing event (\d+), section end forced")


def outages(ledger: Ledger, city: City, cameras: list[str], end: float) -> list[Outage]:
    """Each camera's injected outages from the ledger: down/up pairs of the camera and of the
    links that cut it off (with the city's backups), and stream freezes."""
    rows = ledger.rows("SELECT kind, camera, district, link, start, end FROM faults ORDER BY seq")
    district = {c: city.district_of(city.camera_index[c]) for c in cameras}
    backups = {d.name for d in city.scenario.network.districts if d.backup is not None}
    out: list[Outage] = []
    down_since: dict[str, float] = {}
    links_down: set[LinkId] = set()
    cut_since: dict[str, float] = {}

    def cut(cam: str) -> bool:
        d = district[cam]
        uplink = LinkId("uplink", d) in links_down and (
            d not in backups or LinkId("backup", d) in links_down
        )
        return LinkId("access", cam) in links_down or LinkId("core") in links_down or uplink

    for kind, cam, _, link, start, until in rows:
        if kind == "camera_down" and cam in district:
            down_since.setdefault(cam, start)
        elif kind == "camera_up" and cam in down_since:
            out.append(Outage(cam, "camera_down", down_since.pop(cam), start))
        elif kind == "stream_freeze" and cam in district:
            out.append(Outage(cam, kind, start, until or start))
        elif kind in ("link_down", "link_up"):
            lid = LinkId.parse(link)
            (links_down.add if kind == "link_down" else links_down.discard)(lid)
            for c in cameras:
                if cut(c) and c not in cut_since:
                    cut_since[c] = start
                elif not cut(c) and c in cut_since:
                    out.append(Outage(c, "link_down", cut_since.pop(c), start))
    out += [Outage(c, "camera_down", t, end) for c, t in down_since.items()]
    out += [Outage(c, "link_down", t, end) for c, t in cut_since.items()]
    return sorted(out, key=lambda o: (o.start, o.camera))


def degradations(ledger: Ledger, cameras: list[str]) -> list[Degradation]:
    """Injected faults that degrade a stream without stopping it (loss, drops, jitter,
    spikes): when, and with which parameters."""
    rows = ledger.rows(
        "SELECT kind, camera, start, end, params FROM faults WHERE kind IN "
        "('packet_loss', 'frame_drops', 'jitter', 'bitrate_spike') ORDER BY seq"
    )
    return [Degradation(c, k, s, e or s, json.loads(p)) for k, c, s, e, p in rows if c in cameras]


def collect(
    ledger: Ledger, target: Any, city: City, window: tuple[float, float], slos: Slos,
    missed_events: int, only: set[str] | None = None, actions_from: float | None = None,
) -> Verdict:  # fmt: skip
    """Ask the target what it recorded over the window and judge it: every camera of the
    run, or `only` these; every action, or those started from `actions_from` on."""
    cams = [c for c in ledger.rows("SELECT camera, target_id, fps FROM cameras ORDER BY camera")
            if only is None or c[0] in only]  # fmt: skip
    ids = [c for c, _, _ in cams]
    since = datetime.fromtimestamp(window[0], UTC) - timedelta(minutes=2)
    until = datetime.fromtimestamp(window[1], UTC) + timedelta(minutes=2)
    logs = _log_times(target, since)
    forced = {m.group(1) for _, line in logs if (m := SECTION_END.search(line))}
    recordings: dict[str, list[tuple[float, float, int]]] = {}
    closed: dict[str, list[float]] = {}  # when recordings ended, but for routine section ends
    frames_until: dict[str, float] = {}
    for cam, tid, fps in cams:
        recs = []
        events = sorted(target.events(tid, since, until), key=lambda r: r.start)
        for i, r in enumerate(events):
            start = r.start.timestamp()
            if r.end is not None:
                end = start + (r.length_s or 0.0)
            elif i + 1 < len(events) or (r.frames == 0 and r.duration_s is None):
                # abandoned: a later one began, so its capture process died with it open
                # (ZoneMinder's watchdog killed a stalled zmc): it holds what it last said;
                # or unreadable (a movie motion never finished): it holds nothing to check
                end = start + (r.duration_s if r.duration_s else r.frames / fps)
            else:  # still recording: its span is up to now, its frames not final
                frames_until[cam] = start
                end = time.time()
            recs.append((start, end, r.frames))
            if r.end is not None and r.recording_id not in forced:
                closed.setdefault(cam, []).append(end)
        recordings[cam] = recs
    sent: dict[str, list[Interval]] = {c: [] for c in ids}
    for cam, *row in ledger.rows(
        "SELECT camera, t0, t1, frames, sessions, due, late_skips, fault_drops, target_drops, "
        "unsent_bytes FROM sent WHERE stream = 'main' ORDER BY t0"
    ):
        sent.setdefault(cam, []).append(Interval(*row))
    outs = outages(ledger, city, ids, window[1])
    degraded = degradations(ledger, ids)
    target_of = {c: tid for c, tid, _ in cams}
    for o in [*outs, *degraded]:
        tid = target_of[o.camera]
        if any(o.start - 1 <= t <= o.start + NOTICE_WITHIN_S and _mentions(line, o.camera, tid)
               for t, line in logs):  # fmt: skip
            o.noticed.append("log")
        if any(o.start - 1 <= b <= o.start + NOTICE_WITHIN_S for b in closed.get(o.camera, [])):
            o.noticed.append("recording closed")
    actions = [(k, lat, bool(ok)) for k, lat, ok in ledger.rows(
        "SELECT kind, latency_s, ok FROM actions WHERE start >= ?",
        float("-inf") if actions_from is None else actions_from)]  # fmt: skip
    health = ledger.rows(  # the window's own samples: a capacity step's, not the next one's
        "SELECT max(lateness_p99_s), sum(frames_late), max(rss_mb) FROM health "
        "WHERE process = 'camsim serve' AND t > ? AND t <= ?",
        window[0], window[1] + HEALTH_SLACK_S,
    )[0]  # fmt: skip
    fps = max((f for _, _, f in cams), default=25.0)
    late_p99 = health[0] or 0.0
    harness = {
        "lateness_p99_s": late_p99,
        "frame_interval_s": 1.0 / fps,
        "fell_behind": late_p99 > 1.0 / fps,
        "behind": behind_spans(ledger, window, 1.0 / fps),
        "late_skips": int(health[1] or 0),
        "missed_events": missed_events,
        "generator_rss_mb": health[2],
    }
    samples: dict[str, list[tuple[float, float]]] = {c: [] for c in ids}
    for cam, t, f in ledger.rows("SELECT camera, t, fps FROM capture ORDER BY t"):
        samples.setdefault(cam, []).append((t, f))
    capture = {c: (f, samples[c]) for c, _, f in cams if samples.get(c)}
    v = judge(window, ids, outs, recordings, sent, actions, harness, slos, degraded,
              frames_until, capture, {c: f for c, _, f in cams})  # fmt: skip
    v.resources = resources_over_time(ledger, window)
    v.api_over_time = api_over_time(ledger, window)
    return v


def behind_spans(ledger: Ledger, window: tuple[float, float], frame_s: float) -> list[list[float]]:
    """The sampling intervals in which the generator fell behind: its p99 send lateness over
    the interval above a frame interval."""
    rows = ledger.rows(
        "SELECT t, lateness_p99_s FROM health WHERE process = 'camsim serve' "
        "AND t > ? AND t <= ? ORDER BY t",
        window[0],
        window[1] + HEALTH_SLACK_S,
    )
    out: list[list[float]] = []
    for (t0, _), (t1, late) in zip([(window[0], None), *rows], rows, strict=False):
        if late is not None and late > frame_s:
            if out and out[-1][1] == t0:
                out[-1][1] = t1
            else:
                out.append([t0, t1])
    return out


MAX_POINTS = 400  # a series in the verdict, however long the run


def resources_over_time(ledger: Ledger, window: tuple[float, float]) -> dict[str, list]:
    """Each recorded process's CPU (% of one core, between samples) and RSS over the window."""
    out: dict[str, list] = {}
    rows = ledger.rows("SELECT process, t, cpu_s, rss_mb FROM health WHERE t >= ? AND t <= ? "
                       "ORDER BY process, t", window[0] - 60, window[1] + 60)  # fmt: skip
    for proc in sorted({r[0] for r in rows}):
        mine = [r[1:] for r in rows if r[0] == proc]
        series = [(t1, round(100 * max(0.0, c1 - c0) / (t1 - t0), 2), round(m1, 1))
                  for (t0, c0, _), (t1, c1, m1) in zip(mine, mine[1:], strict=False)
                  if t1 > t0]  # fmt: skip
        every = max(1, -(-len(series) // MAX_POINTS))
        out[proc] = series[::every]
    return out


def api_over_time(ledger: Ledger, window: tuple[float, float]) -> dict[str, list]:
    """Each action kind's count and p95 latency in bins over the window (a minute, or wider
    so that there are at most MAX_POINTS)."""
    length = max(1.0, window[1] - window[0])
    width = max(60.0, length / MAX_POINTS)
    rows = ledger.rows("SELECT kind, start, latency_s, ok FROM actions WHERE start >= ? "
                       "ORDER BY start", window[0] - width)  # fmt: skip
    out: dict[str, list] = {}
    for kind in sorted({r[0] for r in rows}):
        bins: dict[int, list[float]] = {}
        counts: dict[int, int] = {}
        for _, t, lat, ok in (r for r in rows if r[0] == kind):
            b = int((t - window[0]) // width)
            counts[b] = counts.get(b, 0) + 1
            if ok and lat is not None:
                bins.setdefault(b, []).append(lat)
        out[kind] = [(window[0] + (b + 0.5) * width, counts[b],
                      float(np.percentile(bins[b], 95)) if b in bins else None)
                     for b in sorted(counts)]  # fmt: skip
    return out


def _log_times(target: Any, since: datetime) -> list[tuple[float, str]]:
    """The target's log lines with their Unix time (none if it cannot say)."""
    try:
        lines = target.log_lines(since)
    except Exception:  # noqa: BLE001 - a target without logs noticed nothing we can read
        return []
    out = []
    for line in lines:
        stamp, _, rest = line.partition(" ")
        try:
            out.append((datetime.fromisoformat(stamp).timestamp(), rest))
        except ValueError:
            continue
    return out


LEVELS = {"DBG", "DB1", "DB2", "DB3", "INF", "WAR", "ERR", "FAT", "PNC"}  # ZoneMinder's codes
TROUBLE = {"WAR", "ERR", "FAT", "PNC"}


def _mentions(line: str, camera: str, target_id: str) -> bool:
    """Whether a log line reports trouble with this camera (its name, or ZoneMinder's
    `_m<id>`): routine lines (ZoneMinder's periodic "Capturing at" info) are not noticing."""
    words = line.split()
    level = next((w for w in words[:3] if w in LEVELS), None)
    if level is not None and level not in TROUBLE:
        return False
    return camera in line or f"_m{target_id} " in line or f"Monitor {target_id}" in line
