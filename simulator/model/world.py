"""The discrete world, in SimPy: failures and repairs, nightfall and dawn, activity episodes.

Each failing thing alternates exponentially distributed up times (MTBF) and down times (MTTR),
drawn from its own generator of the seed tree's `world` child, so its history is the same
whichever other cameras exist or are simulated. It starts in its stationary state: down with
probability MTTR / (MTBF + MTTR) (a `*_down` event at t = 0, then the rest of its repair),
else up; both times are exponential, so what remains of one is drawn afresh (memoryless).
A short run is then as available as the steady state, not biased towards "everything new".
The result is a list of timeline events that the sizing model and the executors consume.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence

import numpy as np
import simpy

from simulator.model.city import City
from simulator.model.daylight import night_intervals
from simulator.scenario.schema import Activity, Reliability
from simulator.timeline.event import Event, LinkId, sort_events

HOUR = 3600.0
DAY = 86400.0


def world_events(city: City, cameras: Sequence[int] | None = None) -> list[Event]:
    """The discrete world over the scenario's duration, sorted by time. With `cameras`, only
    what reaches those cameras: their failures and access links, their districts' links and
    episodes, the core, the servers and daylight."""
    scenario, table, seeds = city.scenario, city.table, city.seeds
    chosen = range(len(table)) if cameras is None else cameras
    districts = {int(table.district[i]) for i in chosen}
    duration = scenario.simulation.days * DAY
    env = simpy.Environment()
    events: list[Event] = []

    def alternate(rel: Reliability, down: str, up: str, key: str, **who: object) -> Generator:
        rng = seeds.generator("world", key)
        if rng.random() >= rel.mttr_h / (rel.mtbf_h + rel.mttr_h):  # starts up
            yield env.timeout(rng.exponential(rel.mtbf_h * HOUR))
        while True:
            events.append(Event(float(env.now), down, **who))  # type: ignore[arg-type]
            yield env.timeout(rng.exponential(rel.mttr_h * HOUR))
            events.append(Event(env.now, up, **who))  # type: ignore[arg-type]
            yield env.timeout(rng.exponential(rel.mtbf_h * HOUR))

    net = scenario.network
    for i in chosen:
        cid = table.ids[i]
        rel = Reliability(mtbf_h=table.mtbf_h[i], mttr_h=table.mttr_h[i])
        env.process(alternate(rel, "camera_down", "camera_up", f"camera:{cid}", camera=cid))
        if net.access.reliability is not None:
            link = LinkId("access", cid)
            env.process(alternate(net.access.reliability, "link_down", "link_up", str(link),
                                  link=link))  # fmt: skip
    for link in city.links:
        rel = link.spec.reliability
        if rel is not None and (link.kind == "core" or link.district in districts):
            env.process(alternate(rel, "link_down", "link_up", link.name, link=link.id))
    for server in city.recorders:
        rel = server.spec.reliability
        env.process(
            alternate(rel, "server_down", "server_up", f"server:{server.name}", server=server.name)
        )
    act = scenario.activity
    if act.episodes_per_district_day > 0:
        for k in sorted(districts):
            name = city.districts[k]
            rng = seeds.generator("world", f"activity:{name}")
            env.process(_episodes(env, rng, act, name, events))
    env.process(_daylight(env, city, duration, events))
    env.run(until=duration)
    return sort_events(events)


def _episodes(
    env: simpy.Environment, rng: np.random.Generator, act: Activity, district: str,
    events: list[Event],
) -> Generator:  # fmt: skip
    while True:
        yield env.timeout(rng.exponential(DAY / act.episodes_per_district_day))
        length = rng.exponential(act.episode_mean_h * HOUR)
        params = {"factor": act.episode_factor, "duration_s": round(float(length), 3)}
        events.append(Event(env.now, "activity", district=district, params=params))


def _daylight(
    env: simpy.Environment, city: City, duration: float, events: list[Event]
) -> Generator:
    s = city.scenario
    for dusk, dawn in night_intervals(s.simulation.start, duration, s.location):
        yield env.timeout(dusk - env.now)
        events.append(Event(env.now, "night"))
        if dawn >= duration:
            return
        yield env.timeout(dawn - env.now)
        events.append(Event(env.now, "day"))
