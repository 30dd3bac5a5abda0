"""Stream faults in SimPy: freezes, frame drops, packet loss, jitter, bitrate spikes, reconnect
storms and clock jumps, as Poisson processes per camera (storms: per district).

Rates and mean durations come from the scenario's `faults` section (all assumptions). The
result is a list of timeline events; `timeline_events` merges it with the discrete world.
"""

from __future__ import annotations

from collections.abc import Generator

import numpy as np
import simpy

from simulator.model.cameras import CameraTable, camera_table
from simulator.model.faults import discrete_events
from simulator.scenario.schema import Scenario
from simulator.timeline import Event

DAY = 86400.0


def _order(e: Event) -> tuple:
    return (e.t, e.kind, e.camera or "", e.district or "", e.target or "")


def stream_fault_events(
    scenario: Scenario, rng: np.random.Generator, table: CameraTable | None = None
) -> list[Event]:
    """Simulate stream faults over the scenario's duration; events sorted by time."""
    table = table if table is not None else camera_table(scenario)
    f = scenario.faults
    duration = scenario.simulation.days * DAY
    env = simpy.Environment()
    events: list[Event] = []

    def episodes(
        per_day: float, kind: str, mean_s: float | None, who: dict, params: dict
    ) -> Generator:
        while True:
            yield env.timeout(rng.exponential(DAY / per_day))
            p = dict(params)
            if mean_s is not None:
                p["duration_s"] = round(float(rng.exponential(mean_s)), 3)
            events.append(Event(env.now, kind, params=p, **who))

    per_camera = [
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
    for cid in table.ids:
        for per_day, kind, mean_s, params in per_camera:
            if per_day > 0:
                env.process(episodes(per_day, kind, mean_s, {"camera": cid}, params))
    if f.reconnect_storms_per_district_day > 0:
        for d in scenario.network.districts:
            env.process(
                episodes(
                    f.reconnect_storms_per_district_day,
                    "reconnect_storm",
                    None,
                    {"district": d.name},
                    {},
                )
            )
    env.run(until=duration)
    events.sort(key=_order)
    return events


def timeline_events(scenario: Scenario, seed: int | None = None) -> list[Event]:
    """The whole timeline an executor replays: the discrete world and the stream faults.

    One seed (default: the scenario's) feeds two independent streams of random numbers, so
    changing the stream-fault rates leaves the discrete world's events unchanged.
    """
    seed = scenario.simulation.seed if seed is None else seed
    world, wire = np.random.default_rng(seed).spawn(2)
    table = camera_table(scenario)
    events = discrete_events(scenario, world, table) + stream_fault_events(scenario, wire, table)
    events.sort(key=_order)
    return events
