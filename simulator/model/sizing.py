"""Sizing: one run of the model, from a city to Results.

SimPy (`world.world_events`) decides *when* things change; this module turns that into
per-tick states and streams the time axis through numpy in chunks, so memory stays bounded
by cameras × chunk length, never cameras × run length. Every draw comes from the city's seed
tree: the world's events are the timeline's, chunk k's volume comes from `traffic/k`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from simulator.model.cameras import CameraTable
from simulator.model.city import City
from simulator.model.link_measures import LinkMeasures
from simulator.model.links import fluid_queue, fluid_queues
from simulator.model.measures import Measures
from simulator.model.operators import city_watch
from simulator.model.reads import add_disk_iops, recorder_reads
from simulator.model.recorders import assign
from simulator.model.resilience import RecorderFailures
from simulator.model.results import Results
from simulator.model.seeds import SeedTree
from simulator.model.states import States
from simulator.model.traffic import Traffic
from simulator.model.window import WindowResult, simulate_window
from simulator.model.world import world_events
from simulator.scenario.schema import Scenario

Progress = Callable[[float], None]
CHUNK_CELLS = 2_000_000  # cameras × ticks held at once
MAX_WINDOW_FRAMES = 3_000_000  # frames in the frame-level window (~250 bytes each at peak)


@dataclass
class Chunk:
    """The volume of one time chunk: who sends what, and what should be recorded (read-only:
    `demand` is `main` itself when every camera records and sends throughout)."""

    main: np.ndarray  # (cameras, ticks) bits/s, zero when not sending
    sub: np.ndarray
    intended: np.ndarray  # (cameras, ticks) bool: the camera should be recorded
    demand: np.ndarray  # (cameras, ticks) main-stream bits/s to record, were everything up
    sub_demand: np.ndarray | None  # the same of the sub-stream (with record_sub_streams)


def simulate(city: City | Scenario, progress: Progress | None = None) -> Results:
    """Run the sizing model. Same scenario and seed → identical Results."""
    city = city if isinstance(city, City) else City.of(city)
    scenario, table, seeds = city.scenario, city.table, city.seeds
    events = world_events(city)
    tick = scenario.simulation.resolution_s
    ticks = max(1, int(round(scenario.simulation.days * 86400 / tick)))
    states = States(city, events, tick, ticks)
    servers = city.recorders
    camera_mbps = states.mean_main_mbps()
    dual = scenario.recording.record_sub_streams
    peak_mbps = states.peak_main_mbps()
    recorded_peak = peak_mbps * (1 + table.sub_mbps / table.main_mbps) if dual else peak_mbps
    server_of = assign(scenario, table, servers, recorded_peak)
    links = city.links
    net = LinkMeasures(scenario, states, links)
    acc = Measures(scenario, states, servers, server_of)
    failures = RecorderFailures(city, states)
    if failures.active:
        failures.attach(acc)

    size = max(1, min(ticks, CHUNK_CELLS // max(1, len(table))))
    bounds = [(a, min(a + size, ticks)) for a in range(0, ticks, size)]
    traffic = Traffic(table, seeds.generator("traffic", "state"))
    motion_carry = np.zeros(len(table), dtype=np.int64)
    starts: list[np.ndarray] = []  # the traffic state at each chunk's start
    backlog = np.zeros(len(links))
    for k, (a, b) in enumerate(bounds):
        starts.append(traffic.state())
        chunk, motion_carry = _chunk(
            states, traffic, a, b, motion_carry, seeds.generator("traffic", k), dual
        )
        backlog = _network_and_recording(net, acc, states, chunk, a, b, links, backlog, dual)
        if failures.active:
            failures.record(acc, a, b)  # degraded arrays: the last cause, from this chunk's ingest
        if progress is not None:
            progress(b / ticks)

    window_s, note = _window_length(scenario, table)
    window, start_s, length_s, starts_s = _windows(
        scenario, states, net, links, bounds, starts, seeds, window_s
    )
    resilience = failures.finish(acc) if failures.active else None
    results = acc.results(net, window, start_s, length_s, starts_s)
    results.resilience = resilience
    if note:
        results.warnings.append(note)
    both = city_watch(city)
    results.watch = None if both is None else both[0]
    results.reads = recorder_reads(city, None if both is None else both[1], acc, camera_mbps)
    add_disk_iops(results.sizing, results.reads)
    return results


def _windows(
    scenario: Scenario,
    states: States,
    net: LinkMeasures,
    links: list,
    bounds: list[tuple[int, int]],
    starts: list[np.ndarray],
    seeds: SeedTree,
    window_s: float,
) -> tuple[WindowResult, float, float, dict[str, float]]:
    """The frame-level window at the core's busiest minute, and each district link's own
    (its district's cameras only: districts are independent up to the core), unless it never
    carried anything or it is the core's minute. Returns the window (a district link's figures
    from its own), its start and length, and each link's window start (s)."""
    table, tick = states.table, states.tick
    core = len(links) - 1
    spans = {i: net.busiest_window(window_s, i) for i in range(len(links))}
    own = [
        i for i in range(core)
        if net.offered[i] > 0 and spans[i] != spans[core]
        and states.carries(links[i], spans[i][0], spans[i][0] + 1)[0]
    ]  # fmt: skip
    rows = {i: np.flatnonzero(table.district == links[i].district) for i in own}
    rates = _window_rates(states, bounds, starts, seeds, window_s, [spans[core]] +
                          [(*spans[i], rows[i]) for i in own])  # fmt: skip
    w0, w1 = spans[core]
    window = simulate_window(
        table, *rates[0], w0 * tick, scenario.network.access,
        states.path_at(w0, links), links[-1] if states.core_up[w0] else None,
        seeds.generator("window"),
    )  # fmt: skip
    starts_s = dict.fromkeys((lk.name for lk in links), w0 * tick)
    for i, (main, sub) in zip(own, rates[1:], strict=True):
        link, t0 = links[i], spans[i][0] * tick
        seen = simulate_window(
            table.take(rows[i]), main, sub, t0, scenario.network.access,
            {link.district: link}, None, seeds.generator("window", link.name),
        )  # fmt: skip
        window.links[link.name] = seen.links[link.name]
        starts_s[link.name] = t0
    return window, w0 * tick, rates[0][0].shape[1], starts_s


def _window_length(scenario: Scenario, table: CameraTable) -> tuple[float, str]:
    """The frame-level window's length, shortened so it holds at most MAX_WINDOW_FRAMES."""
    wanted = scenario.simulation.frame_window_s
    per_second = float((table.fps + np.where(table.sub_mbps > 0, table.sub_fps, 0)).sum())
    fits = max(1.0, float(np.floor(MAX_WINDOW_FRAMES / per_second)))
    if wanted <= fits:
        return wanted, ""
    return fits, (
        f"frame-level window shortened from {wanted:g} s to {fits:g} s "
        f"to hold at most {MAX_WINDOW_FRAMES:,} frames"
    )


def _chunk(
    states: States,
    traffic: Traffic,
    a: int,
    b: int,
    motion_carry: np.ndarray,
    rng: np.random.Generator,
    dual: bool = False,
) -> tuple[Chunk, np.ndarray]:
    activity = states.activity(a, b)
    main, sub = traffic.rates(activity, states.night[a:b], rng)
    intended, carry = states.intended(a, b, activity, motion_carry, rng)
    every = bool(intended.all())  # continuous recording: the demand is what is sent
    sending = states.sending(a, b)
    if not every or not sending.all():
        demand = main * intended
        sub_demand = sub * intended if dual else None
        main *= sending
        sub *= sending
    else:
        demand, sub_demand = main, (sub if dual else None)
    return Chunk(main, sub, intended, demand, sub_demand), carry


def _sent(
    states: States,
    traffic: Traffic,
    a: int,
    b: int,
    ticks: int,
    rng: np.random.Generator,
    rows: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Main and sub rates over the first `ticks` of chunk [a, b) (of these cameras only, if
    given), as `_chunk` drew them."""
    activity = states.activity(a, a + ticks, rows)
    night = states.night[a : a + ticks]
    main, sub = traffic.rates(activity, night, rng, draw_ticks=b - a, rows=rows)
    sending = states.sending(a, a + ticks)
    if rows is not None:
        sending = sending[rows]
    if not sending.all():
        main *= sending
        sub *= sending
    return main, sub


def _window_rates(
    states: States,
    bounds: list[tuple[int, int]],
    starts: list[np.ndarray],
    seeds: SeedTree,
    length_s: float,
    windows: list[tuple],
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Main and sub rates (cameras, seconds) over each window (first tick, last tick, and
    optionally the camera rows wanted), its first `length_s` seconds, regenerated exactly as
    the main pass drew them from each chunk's saved state and seed; each chunk once."""
    parts: list[tuple[list, list]] = [([], []) for _ in windows]
    for i, (a, b) in enumerate(bounds):
        touched = [k for k, (w0, w1, *_) in enumerate(windows) if a < w1 and w0 < b]
        if not touched:
            continue
        traffic = Traffic(states.table, None, state=starts[i])
        ticks = max(min(b, windows[k][1]) - a for k in touched)
        wanted = [windows[k][2] if len(windows[k]) > 2 else None for k in touched]
        rows = None if any(r is None for r in wanted) else np.unique(np.concatenate(wanted))
        main, sub = _sent(states, traffic, a, b, ticks, seeds.generator("traffic", i), rows)
        for k, want in zip(touched, wanted, strict=True):
            w0, w1, *_ = windows[k]
            if want is None:
                take: slice | np.ndarray = slice(None)
            else:
                take = want if rows is None else np.searchsorted(rows, want)
            lo, hi = max(a, w0) - a, min(b, w1) - a
            parts[k][0].append(main[take, lo:hi])
            parts[k][1].append(sub[take, lo:hi])
    seconds = max(1, int(length_s))

    def per_second(p: list[np.ndarray]) -> np.ndarray:
        x = np.concatenate(p, axis=1).astype(np.float64)
        return np.repeat(x, states.tick, axis=1)[:, :seconds]

    return [(per_second(m), per_second(s)) for m, s in parts]


def _network_and_recording(
    net: LinkMeasures,
    acc: Measures,
    states: States,
    chunk: Chunk,
    a: int,
    b: int,
    links: list,
    backlog: np.ndarray,
    dual: bool = False,
) -> np.ndarray:
    """Carry one chunk through the access links, district links, core and recorders (with
    `dual`, the sub-streams are recorded too)."""
    tick = states.tick
    sent = chunk.main + chunk.sub
    net.access(a, b, sent)
    by_district = states.district_sums(sent)  # (districts, ticks) bits/s
    offered_all = np.zeros((len(links), b - a))
    lost_all = np.zeros((len(links), b - a))
    new_backlog = backlog.copy()
    shared = links[:-1]  # the district links, all at once
    district = np.array([lk.district for lk in shared], dtype=int)
    offered = by_district[district] * states.carrying(shared, a, b) * tick / 8
    capacity = np.array([lk.capacity_Bps * tick for lk in shared])
    buffer = np.array([lk.buffer_B for lk in shared])
    w, lost = fluid_queues(offered, capacity, buffer, backlog[:-1])
    if w.shape[1]:
        new_backlog[:-1] = w[:, -1]
    offered_all[:-1], lost_all[:-1] = offered, lost
    passed = offered - lost
    delivered = np.zeros_like(by_district, dtype=np.float64)
    for kind in ("uplink", "backup"):  # a district's uplink, then its backup, as link order
        rows = [i for i, lk in enumerate(shared) if lk.kind == kind]
        delivered[district[rows]] += passed[rows]
    core = links[-1]
    offered = delivered.sum(axis=0) * states.core_up[a:b]
    w, lost = fluid_queue(offered, core.capacity_Bps * tick, core.buffer_B, backlog[-1])
    new_backlog[-1] = w[-1]
    offered_all[-1], lost_all[-1] = offered, lost
    net.network(a, b, offered_all, lost_all)

    # Fraction of each district's bytes that reach the centre, per tick.
    offered_d = by_district * tick / 8
    through = np.divide(delivered, offered_d, out=np.zeros_like(delivered), where=offered_d > 0)
    core_through = np.divide(offered - lost, offered, out=np.zeros_like(offered), where=offered > 0)
    reach = through * core_through  # (districts, ticks)
    recorded = chunk.main + chunk.sub if dual else chunk.main
    demand = chunk.demand + chunk.sub_demand if dual else chunk.demand
    acc.recording(a, b, recorded, demand, chunk.intended, reach)
    return new_backlog
