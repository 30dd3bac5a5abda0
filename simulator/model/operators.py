"""The operators' attention, in SimPy: who sees an incident on the video wall, and how soon.

The cameras are shared out among the operators on duty that hour (camera i to operator
i mod k). Each operator has `monitors_each` monitors and tours their cameras on them: a
monitor shows each of its cameras for `dwell_s`, in turn. A camera on screen is a chance to
notice what it shows, with the probability the UK PSDB measured for that many monitors (REFERENCE:
1, 4, 6, 9 monitors → 85, 74, 58, 53 %), lowered by vigilance after 30 minutes on task. An
operator on a break, busy handling an incident (exponential time) or a request (a live
transfer to the police, a review, an export, an alarm check), watches nothing. A request goes
to an operator on duty at random and waits until that operator is free, back from a break
and still on duty (else a colleague on duty takes it).

One run gives both the Watch (the sizing figures) and the Duty: what each operator did in the
first `record_s` seconds, which `simulator.model.actions` turns into the load's timeline.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Generator
from dataclasses import dataclass

import numpy as np
import simpy

from simulator.model.city import City
from simulator.model.incidents import IncidentSet, draw_incidents
from simulator.model.requests import REQUEST_KINDS, draw_requests
from simulator.model.results import Watch
from simulator.model.wall import Wall
from simulator.scenario.watch import Operators

#: Share of targets detected against monitors watched (UK PSDB, Aldridge; REFERENCE).
PSDB_MONITORS = (1.0, 4.0, 6.0, 9.0)
PSDB_DETECTED = (0.85, 0.74, 0.58, 0.53)


INCIDENT = len(REQUEST_KINDS)  # the Duty's kind code of an incident handled


def detection_probability(monitors: int) -> float:
    """PSDB's detection share for this many monitors, interpolated, held flat beyond 1 and 9."""
    return float(np.interp(monitors, PSDB_MONITORS, PSDB_DETECTED))


@dataclass
class Duty:
    """What the operators did in the first `horizon_s` of a watch, in the order it was
    decided: requests taken up and incidents handled (bounded by the horizon)."""

    horizon_s: float
    kind: np.ndarray  # index into REQUEST_KINDS, or INCIDENT
    raised_s: np.ndarray  # when the request came (incidents: when detected)
    start_s: np.ndarray  # when the operator began
    span_s: np.ndarray  # how long it kept the operator
    operator: np.ndarray
    camera: np.ndarray  # the incident's camera; -1 for requests (the model has none)


def watch(
    ops: Operators, cameras: int, incidents: IncidentSet, start: dt.datetime,
    days: float, rng: np.random.Generator,
) -> Watch:  # fmt: skip
    """Run the incidents past the operators; same inputs and generator → same Watch."""
    return run_watch(ops, cameras, incidents, start, days, rng)[0]


def run_watch(
    ops: Operators, cameras: int, incidents: IncidentSet, start: dt.datetime,
    days: float, rng: np.random.Generator, record_s: float = 0.0,
) -> tuple[Watch, Duty]:  # fmt: skip
    """The Watch, and the Duty of the first `record_s` seconds, from one run."""
    env = simpy.Environment()
    wall = Wall(ops, cameras, start)
    p = ops.detection if ops.detection is not None else detection_probability(ops.monitors_each)
    handling_s = ops.handling_mean_min * 60.0
    n = len(incidents.start_s)
    outcome = np.zeros(n, dtype=np.int8)  # 0 unseen, 1 away, 2 unnoticed, 3 detected
    delay = np.full(n, np.nan)
    req = draw_requests(ops.requests, cameras, days, rng)
    log: list[tuple[int, float, float, float, int, int]] = []  # bounded by record_s
    handled = 0

    def requests() -> Generator:
        nonlocal handled
        columns = (req.t.tolist(), req.span_s.tolist(), req.who.tolist(), req.kind.tolist())
        for t, span, u, code in zip(*columns, strict=True):
            yield env.timeout(t - env.now)
            k = wall.on_duty(t)
            if k == 0:
                continue  # nobody there to take it
            op, begin = wall.take(min(int(u * k), k - 1), t)
            wall.busy_until[op] = begin + span
            wall.handling_s += span
            handled += 1
            if begin < record_s:
                log.append((code, t, begin, span, op, -1))

    def incident(k: int) -> Generator:
        t0 = float(incidents.start_s[k])
        end = t0 + float(incidents.visible_s[k])
        camera = int(incidents.camera[k])
        yield env.timeout(t0)
        t = t0
        while t < end:
            shown, until, op = wall.next_on_screen(camera, t)
            if op is None or shown >= end:
                t = shown
                continue
            if shown > env.now:
                yield env.timeout(shown - env.now)
            outcome[k] = max(outcome[k], 1)
            free = wall.free_from(op, shown)
            if free > shown:  # busy or away: the next look is once the operator is back
                t = free
                continue
            outcome[k] = 2
            if rng.random() < p * wall.vigilance(op, shown):
                outcome[k] = 3
                delay[k] = shown - t0
                spent = rng.exponential(handling_s)
                wall.busy_until[op] = shown + spent
                wall.handling_s += spent
                if shown < record_s:
                    log.append((INCIDENT, shown, shown, float(spent), op, camera))
                return
            t = until

    env.process(requests())
    for k in range(n):
        env.process(incident(k))
    env.run()
    counts = np.bincount(outcome, minlength=4)
    by_hour = np.zeros((24, 2), dtype=np.int64)
    np.add.at(by_hour[:, 0], incidents.hour, 1)
    np.add.at(by_hour[:, 1], incidents.hour[outcome == 3], 1)
    staffed = [k for k in ops.on_duty if k > 0]
    duty_s = float(np.mean(ops.on_duty)) * 86400.0 * days
    w = Watch(
        days=days,
        incidents=n,
        detected=int(counts[3]),
        unseen=int(counts[0]),
        away=int(counts[1]),
        unnoticed=int(counts[2]),
        delays_s=delay[outcome == 3],
        by_hour=by_hour,
        busy_share=wall.handling_s / duty_s if duty_s else 0.0,
        requests=handled,
        detection_p=p,
        monitors_each=ops.monitors_each,
        max_cameras_per_operator=max(((cameras + k - 1) // k for k in staffed), default=0),
        hours_unwatched=sum(1 for k in ops.on_duty if k == 0),
    )
    cols = list(zip(*log, strict=True)) if log else [()] * 6
    duty = Duty(
        record_s,
        np.array(cols[0], dtype=np.int8),
        *(np.array(c, dtype=float) for c in cols[1:4]),
        np.array(cols[4], dtype=np.int64),
        np.array(cols[5], dtype=np.int64),
    )
    return w, duty


def city_watch(city: City) -> tuple[Watch, Duty] | None:
    """The city's incidents past its operators, drawn from the seed tree's `watch` child, and
    what the operators did during the simulation (None when the city has no `operators`).

    The watch runs over `incidents.days` (its figures need many weeks) or the simulation's
    days if longer (the Duty must cover them); the Duty is the first `simulation.days`."""
    scenario = city.scenario
    if scenario.operators is None:
        return None
    n, start = scenario.camera_count, scenario.simulation.start
    days = max(scenario.incidents.days, scenario.simulation.days)
    inc = scenario.incidents
    if days != inc.days:
        inc = inc.model_copy(update={"days": days})
    incidents = draw_incidents(inc, n, start, city.seeds.generator("watch", "incidents"))
    rng = city.seeds.generator("watch", "operators")
    record_s = scenario.simulation.days * 86400.0
    return run_watch(scenario.operators, n, incidents, start, days, rng, record_s)


def watch_city(city: City) -> Watch | None:
    """The city's incidents past its operators (None when it has no `operators`)."""
    both = city_watch(city)
    return None if both is None else both[0]
