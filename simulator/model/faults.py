"""The discrete world, in SimPy: failures and repairs, nightfall and dawn, activity episodes.

Each failing thing alternates exponentially distributed up times (MTBF) and down times (MTTR).
The result is a timeline of events that the volume model (numpy) and the executors consume.
"""

from __future__ import annotations

from collections.abc import Generator

import numpy as np
import simpy

from simulator.model.cameras import CameraTable, camera_table
from simulator.model.daylight import night_intervals
from simulator.model.recorders import recorders
from simulator.scenario.schema import Activity, Reliability, Scenario
from simulator.timeline import Event

HOUR = 3600.0


def discrete_events(
    scenario: Scenario, rng: np.random.Generator, table: CameraTable | None = None
) -> list[Event]:
    """Simulate the discrete world over the scenario's duration; events sorted by time."""
    table = table if table is not None else camera_table(scenario)
    duration = scenario.simulation.days * 86400
    env = simpy.Environment()
    events: list[Event] = []

    def alternate(rel: Reliability, down: str, up: str, **who: str) -> Generator:
        while True:
            yield env.timeout(rng.exponential(rel.mtbf_h * HOUR))
            events.append(Event(env.now, down, **who))
            yield env.timeout(rng.exponential(rel.mttr_h * HOUR))
            events.append(Event(env.now, up, **who))

    for i, cid in enumerate(table.ids):
        rel = Reliability(mtbf_h=table.mtbf_h[i], mttr_h=table.mttr_h[i])
        env.process(alternate(rel, "camera_down", "camera_up", camera=cid))
    net = scenario.network
    if net.access.reliability is not None:
        for cid in table.ids:
            env.process(
                alternate(
                    net.access.reliability,
                    "link_down",
                    "link_up",
                    target=f"access:{cid}",
                    camera=cid,
                )
            )
    for d in net.districts:
        for kind, link in (("uplink", d.uplink), ("backup", d.backup)):
            if link is not None and link.reliability is not None:
                env.process(
                    alternate(
                        link.reliability,
                        "link_down",
                        "link_up",
                        target=f"{kind}:{d.name}",
                        district=d.name,
                    )
                )
    if net.core.reliability is not None:
        env.process(alternate(net.core.reliability, "link_down", "link_up", target="core"))
    for server in recorders(scenario):
        env.process(
            alternate(server.spec.reliability, "server_down", "server_up", target=server.name)
        )

    act = scenario.activity
    if act.episodes_per_district_day > 0:
        for d in net.districts:
            env.process(_episodes(env, rng, act.episodes_per_district_day, act, d.name, events))
    env.process(_daylight(env, scenario, duration, events))
    env.run(until=duration)
    events.sort(key=lambda e: (e.t, e.kind, e.camera or "", e.target or "", e.district or ""))
    return events


def _episodes(
    env: simpy.Environment,
    rng: np.random.Generator,
    per_day: float,
    act: Activity,
    district: str,
    events: list[Event],
) -> Generator:
    while True:
        yield env.timeout(rng.exponential(86400 / per_day))
        length = rng.exponential(act.episode_mean_h * HOUR)
        events.append(
            Event(
                env.now,
                "activity",
                district=district,
                params={"factor": act.episode_factor, "duration_s": round(float(length), 3)},
            )
        )


def _daylight(
    env: simpy.Environment, scenario: Scenario, duration: float, events: list[Event]
) -> Generator:
    for dusk, dawn in night_intervals(scenario.simulation.start, duration, scenario.location):
        yield env.timeout(dusk - env.now)
        events.append(Event(env.now, "night"))
        if dawn >= duration:
            return
        yield env.timeout(dawn - env.now)
        events.append(Event(env.now, "day"))
