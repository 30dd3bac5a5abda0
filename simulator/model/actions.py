"""The operators' actions: what each operator does on the VMS, as timeline events (the load).

They come from the very run that gives the sizing model its Watch (`operators.city_watch`):

- tour steps (`live_view`): each operator's monitors switch to their next camera every
  `dwell_s`, as the Wall tours them, while the operator is on duty and not on a break. The
  tour goes on while the operator handles an incident or a request: the VMS client switches
  the monitors by itself (and the Watch counts a camera shown then as seen by nobody);
- `incident_response`: every incident the watch detected, on its camera, at the detection
  time, for the handling time the model drew, with PTZ moves;
- requests (`live_transfer`, `review`, `export`, `alarm`): the ones the model drew, when the
  operator it gave them to began them. The model gives them no camera: each gets one drawn
  uniformly from the seed tree's `actions` child, which also draws what a review plays back
  and what an export cuts (constants below, docs/defaults.md), so no Watch figure moves.

A camera subset keeps only the actions on those cameras: the same run, filtered.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from simulator.model.city import City
from simulator.model.incidents import HOUR
from simulator.model.operators import INCIDENT, Duty, city_watch
from simulator.model.requests import REQUEST_KINDS
from simulator.model.wall import Wall
from simulator.scenario.watch import Operators
from simulator.timeline.event import Event, sort_events

REVIEW_SPEED = 4.0  # playback speed of a review (assumption)
REVIEW_AGE_MEAN_S = 2 * HOUR  # the facts reviewed end this long before the review (exp.)
EXPORT_LENGTH_MEAN_S = 1800.0  # recording length a requisition asks for (exponential)
EXPORT_AGE_MEAN_S = 24 * HOUR  # the facts exported end this long before the export (exp.)
PTZ_MOVES_PER_MIN = 0.5  # PTZ moves while handling an incident, Poisson per minute
MIN_STEP_S = 1e-3  # the timeline's resolution

KIND_NAMES = (*REQUEST_KINDS, "incident_response")  # by the Duty's kind code


@dataclass
class Tours:
    """Tour steps as arrays: monitor `monitor` of `operator` shows `camera` from t_s."""

    t_s: np.ndarray
    duration_s: np.ndarray
    camera: np.ndarray
    operator: np.ndarray
    monitor: np.ndarray


def rota_windows(wall: Wall, horizon_s: float) -> list[tuple[float, float, int]]:
    """(from, until, operators on duty) of each stretch of constant rota within the horizon
    (stretches nobody is on duty left out)."""
    out: list[tuple[float, float, int]] = []
    for j in range(math.ceil((horizon_s + wall.offset_s) / HOUR)):
        a = max(0.0, j * HOUR - wall.offset_s)
        b = min(horizon_s, (j + 1) * HOUR - wall.offset_s)
        k = wall.ops.on_duty[(wall.first_hour + j) % 24]
        if b <= a:
            continue
        if out and out[-1][2] == k and out[-1][1] == a:
            out[-1] = (out[-1][0], b, k)
        else:
            out.append((a, b, k))
    return [w for w in out if w[2] > 0]


def _overlap(
    s: np.ndarray, e: np.ndarray, w0: np.ndarray, w1: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pieces of intervals [s, e) inside intervals [w0, w1) (both sorted, disjoint):
    (index into s, piece start, piece end)."""
    lo = np.searchsorted(w1, s, side="right")
    hi = np.searchsorted(w0, e, side="left")
    count = np.maximum(hi - lo, 0)
    i = np.repeat(np.arange(len(s)), count)
    j = np.repeat(lo - (np.cumsum(count) - count), count) + np.arange(count.sum())
    start, end = np.maximum(s[i], w0[j]), np.minimum(e[i], w1[j])
    keep = end > start
    return i[keep], start[keep], end[keep]


def tour_steps(
    wall: Wall, windows: list[tuple[float, float, int]], since_s: float, until_s: float
) -> Tours:
    """The tour steps that begin in [since_s, until_s), clipped to rota changes (`windows`,
    from rota_windows) and breaks, by operator and monitor.

    Under a rota of k operators with m monitors each, monitor `mon` of operator `op` tours
    the cameras op + k·(mon + m·s), s = 0, 1, …, and shows its s-th at step n·dwell when
    n ≡ s (mod its count): the Wall's schedule (`Wall.tour`), written for all steps at once."""
    ops: Operators = wall.ops
    d, m, n_cams = ops.dwell_s, ops.monitors_each, wall.cameras
    parts: list[tuple[np.ndarray, ...]] = []
    for wa, wb, k in windows:
        lo, hi = max(wa, since_s), min(wb, until_s)
        if hi <= lo:
            continue
        # a step more each side: which chunk a piece is in is decided by its start alone
        n = np.arange(math.floor(lo / d) - 1, math.ceil(hi / d) + 1, dtype=np.int64)
        s, e = np.maximum(n * d, wa), np.minimum((n + 1) * d, wb)
        n, s, e = n[e > s], s[e > s], e[e > s]
        for op in range(min(k, n_cams)):
            mine = (n_cams - op + k - 1) // k
            mon = np.arange(m)
            count = (mine - mon + m - 1) // m  # cameras on each monitor
            mon, count = mon[count > 0], count[count > 0]
            i, s2, e2 = _overlap(s, e, *wall.work_periods(op, float(s[0]), float(e[-1])))
            # pieces a rounding error long (a break ending on a step) are no tour step
            inside = (s2 >= since_s) & (s2 < until_s) & (e2 - s2 > MIN_STEP_S)
            i, s2, e2 = i[inside], s2[inside], e2[inside]
            cam = op + k * (mon[:, None] + m * (n[i][None, :] % count[:, None]))
            parts.append((
                np.broadcast_to(s2, cam.shape).ravel(),
                np.broadcast_to(e2 - s2, cam.shape).ravel(),
                cam.ravel(),
                np.full(cam.size, op),
                np.repeat(mon, len(i)),
            ))  # fmt: skip
    if not parts:
        return Tours(np.zeros(0), np.zeros(0), *(np.zeros(0, dtype=np.int64),) * 3)
    return Tours(*(np.concatenate(col) for col in zip(*parts, strict=True)))


def _clip_recorded(start: np.ndarray, age: np.ndarray, length: np.ndarray):  # noqa: ANN202
    """(from_s, length_s) of a recording ending `age` before `start`, clipped to what had
    been recorded by then (nothing before the simulation's start)."""
    from_s = np.maximum(0.0, start - age - length)
    return from_s, np.minimum(length, np.maximum(0.0, start - from_s))


def _ms(x: np.ndarray) -> list[float]:
    return np.round(x, 3).tolist()


def request_events(city: City, duty: Duty) -> tuple[list[Event], np.ndarray]:
    """The Duty's requests and incidents as events, and the camera index of each."""
    n_cams = city.scenario.camera_count
    ids = city.table.ids
    req = duty.kind != INCIDENT
    rng = city.seeds.generator("actions", "requests")
    camera = duty.camera.copy()
    camera[req] = rng.integers(0, n_cams, int(req.sum()))
    age_review = rng.exponential(REVIEW_AGE_MEAN_S, len(duty.kind))
    age_export = rng.exponential(EXPORT_AGE_MEAN_S, len(duty.kind))
    export_len = rng.exponential(EXPORT_LENGTH_MEAN_S, len(duty.kind))
    ptz = city.seeds.generator("actions", "ptz").poisson(PTZ_MOVES_PER_MIN * duty.span_s / 60)
    rev_from, rev_len = _clip_recorded(duty.start_s, age_review, duty.span_s * REVIEW_SPEED)
    exp_from, exp_len = _clip_recorded(duty.start_s, age_export, export_len)
    wait = duty.start_s - duty.raised_s
    cols = (
        duty.kind.tolist(), duty.raised_s.tolist(), duty.start_s.tolist(), _ms(duty.span_s),
        duty.operator.tolist(), camera.tolist(), _ms(rev_from), _ms(rev_len), _ms(exp_from),
        _ms(exp_len), _ms(wait), _ms(wait + duty.span_s), np.minimum(ptz, 1000).tolist(),
    )  # fmt: skip
    events = []
    for code, raised, begin, span, op, cam, rf, rl, ef, el, w, ack, moves in zip(
        *cols, strict=True
    ):
        params: dict = {"operator": op, "duration_s": span}
        t = begin
        if code == INCIDENT:
            params["ptz_moves"] = moves
        elif REQUEST_KINDS[code] == "review":
            params.update(from_s=rf, length_s=rl, speed=REVIEW_SPEED)
        elif REQUEST_KINDS[code] == "export":
            params.update(from_s=ef, length_s=el)
        elif REQUEST_KINDS[code] == "alarm":
            t = raised  # the integration raises it; the operator takes it up after wait_s
            params.update(wait_s=w, duration_s=ack)
        events.append(Event(t, KIND_NAMES[code], camera=ids[cam], params=params))
    return events, camera


def tour_events(city: City, tours: Tours) -> list[Event]:
    """Tour steps as `live_view` events."""
    ids = city.table.ids
    return [
        Event(t, "live_view", camera=ids[c], params={"operator": o, "monitor": m,
                                                     "duration_s": d})
        for t, d, c, o, m in zip(
            tours.t_s.tolist(), _ms(tours.duration_s), tours.camera.tolist(),
            tours.operator.tolist(), tours.monitor.tolist(), strict=True,
        )
    ]  # fmt: skip


def _merge(views: list[Event], view_t: np.ndarray, others: list[Event]) -> list[Event]:
    """Sorted live views and sorted other actions, in one order (Event.sort_key): at the
    same time, kinds before `live_view` (all but `review`) come first."""
    if not others:
        return views
    at = [
        int(np.searchsorted(view_t, e.t, side="left" if e.kind < "live_view" else "right"))
        for e in others
    ]
    out: list[Event] = []
    prev = 0
    for i, e in zip(at, others, strict=True):
        out += views[prev:i]
        out.append(e)
        prev = i
    return out + views[prev:]


def iter_action_events(
    city: City, cameras: Sequence[int] | None = None, chunk_s: float = HOUR
) -> Iterator[Event]:
    """What the operators do over the simulation's days (on `cameras` only, if given), in
    time order, `chunk_s` of simulated time at a time (memory: one chunk of tour steps); none
    for a city without `operators`."""
    both = city_watch(city)
    if both is None:
        return
    _, duty = both
    s = city.scenario
    wall = Wall(s.operators, s.camera_count, s.simulation.start)  # type: ignore[arg-type]
    windows = rota_windows(wall, duty.horizon_s)
    chosen = np.ones(s.camera_count, dtype=bool)
    if cameras is not None:
        chosen[:] = False
        chosen[np.asarray(cameras, dtype=np.int64)] = True
    requests, req_camera = request_events(city, duty)
    requests = sort_events([e for e, c in zip(requests, req_camera.tolist(), strict=True)
                            if chosen[c]])  # fmt: skip
    req_t = np.array([e.t for e in requests])
    rank = np.empty(s.camera_count, dtype=np.int64)
    rank[np.argsort(np.array(city.table.ids))] = np.arange(s.camera_count)  # id order
    for j in range(math.ceil(duty.horizon_s / chunk_s)):
        a, b = j * chunk_s, min((j + 1) * chunk_s, duty.horizon_s)
        tours = tour_steps(wall, windows, a, b)
        keep = chosen[tours.camera]
        order = np.flatnonzero(keep)[np.lexsort((rank[tours.camera[keep]], tours.t_s[keep]))]
        tours = Tours(*(getattr(tours, f)[order] for f in Tours.__dataclass_fields__))
        i0, i1 = np.searchsorted(req_t, [a, b], side="left")
        yield from _merge(tour_events(city, tours), tours.t_s, requests[i0:i1])


def action_events(city: City, cameras: Sequence[int] | None = None) -> list[Event]:
    """What the operators do over the simulation's days (on `cameras` only, if given), sorted
    by time; none for a city without `operators`."""
    return list(iter_action_events(city, cameras))
