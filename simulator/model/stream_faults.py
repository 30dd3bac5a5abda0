"""Stream faults in SimPy: freezes, frame drops, packet loss, jitter, bitrate spikes, reconnect
storms and clock jumps, as Poisson processes per camera (storms: per district).

Rates and mean durations come from the scenario's `faults` section (all assumptions); the
parameters the faults carry take their defaults from the registry of kinds. Each camera and
district draws from its own generator of the seed tree's `wire` child.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence

import numpy as np
import simpy

from simulator.model.city import City
from simulator.scenario.schema import StreamFaults
from simulator.timeline.event import Event, sort_events

DAY = 86400.0


def _per_camera(f: StreamFaults) -> list[tuple[float, str, float | None, dict]]:
    """(rate per camera-day, kind, mean duration s or None, parameters) of each stream fault."""
    return [
        (f.freeze_per_camera_day, "stream_freeze", f.freeze_mean_s, {}),
        (f.frame_drops_per_camera_day, "frame_drops", f.frame_drops_mean_s,
         {"rate": f.frame_drop_rate}),
        (f.packet_loss_per_camera_day, "packet_loss", f.packet_loss_mean_s,
         {"percent": f.packet_loss_percent}),
        (f.jitter_per_camera_day, "jitter", f.jitter_mean_s, {"ms": f.jitter_ms}),
        (f.bitrate_spike_per_camera_day, "bitrate_spike", f.bitrate_spike_mean_s,
         {"factor": f.bitrate_spike_factor}),
        (f.clock_jumps_per_camera_day, "clock_jump", None, {"offset_s": f.clock_jump_s}),
    ]  # fmt: skip


def stream_fault_events(city: City, cameras: Sequence[int] | None = None) -> list[Event]:
    """Stream faults over the scenario's duration (of `cameras` and their districts only, if
    given), sorted by time."""
    f = city.scenario.faults
    table = city.table
    chosen = range(len(table)) if cameras is None else cameras
    env = simpy.Environment()
    events: list[Event] = []

    def episodes(
        rng: np.random.Generator, per_day: float, kind: str, mean_s: float | None, who: dict,
        params: dict,
    ) -> Generator:  # fmt: skip
        while True:
            yield env.timeout(rng.exponential(DAY / per_day))
            p = dict(params)
            if mean_s is not None:
                p["duration_s"] = round(float(rng.exponential(mean_s)), 3)
            events.append(Event(env.now, kind, params=p, **who))

    for i in chosen:
        cid = table.ids[i]
        for per_day, kind, mean_s, params in _per_camera(f):
            if per_day > 0:
                rng = city.seeds.generator("wire", cid, kind)
                env.process(episodes(rng, per_day, kind, mean_s, {"camera": cid}, params))
    if f.reconnect_storms_per_district_day > 0:
        for k in sorted({int(table.district[i]) for i in chosen}):
            name = city.districts[k]
            rng = city.seeds.generator("wire", f"district:{name}", "reconnect_storm")
            per_day = f.reconnect_storms_per_district_day
            env.process(episodes(rng, per_day, "reconnect_storm", None, {"district": name}, {}))
    env.run(until=city.scenario.simulation.days * DAY)
    return sort_events(events)
