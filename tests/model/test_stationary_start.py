"""Every element with an MTBF/MTTR starts in its stationary state, so even a one-day run is as
available as the steady state: MTBF / (MTBF + MTTR).

Statistics. An element's up/down state is a two-state Markov chain with rates λ = 1/MTBF and
μ = 1/MTTR; from its stationary start the share of a run of length T it spends down has mean
p = MTTR / (MTBF + MTTR) and, from the chain's autocovariance p(1-p)·exp(-(λ+μ)|u|),
variance 2p(1-p)(κT - 1 + exp(-κT)) / (κT)² with κ = λ + μ. Elements are independent, so the
mean over N of them has that variance / N. Each check allows Z = 4 standard errors (a correct
model fails it once in ~16,000 seeds) and first asserts that the bias of starting every element
up (an expected down share of p(1 - (1 - exp(-κT)) / (κT))) lies well outside that band, so
the test can tell the two apart.
"""

from __future__ import annotations

import math

import pytest

from simulator.model.city import City
from simulator.model.sizing import simulate
from simulator.model.states import States
from simulator.model.world import world_events
from simulator.scenario import Scenario
from simulator.timeline.event import Event

Z = 4.0
DAY_S = 86400.0


def _expected(mtbf_h: float, mttr_h: float, hours: float) -> tuple[float, float, float]:
    """(stationary down share, its standard deviation per element, the all-up start's share)."""
    p = mttr_h / (mtbf_h + mttr_h)
    kt = (1 / mtbf_h + 1 / mttr_h) * hours
    var = 2 * p * (1 - p) * (kt - 1 + math.exp(-kt)) / kt**2
    return p, math.sqrt(var), p * (1 - (1 - math.exp(-kt)) / kt)


def _down_share(events: list[Event], horizon_s: float) -> dict[str, float]:
    """{element: share of [0, horizon) it was down} from its *_down / *_up events."""
    opened: dict[str, float] = {}
    down: dict[str, float] = {}
    for e in events:
        if not e.kind.endswith(("_down", "_up")):
            continue
        who = f"{e.kind.split('_')[0]}:{e.camera or e.link or e.server}"
        if e.kind.endswith("_down"):
            opened[who] = e.t
        elif who in opened:
            down[who] = down.get(who, 0.0) + e.t - opened.pop(who)
    for who, t in opened.items():
        down[who] = down.get(who, 0.0) + horizon_s - t
    return {k: v / horizon_s for k, v in down.items()}


def _check(shares: list[float], n: int, mtbf_h: float, mttr_h: float, hours: float) -> None:
    p, sd, all_up = _expected(mtbf_h, mttr_h, hours)
    band = Z * sd / math.sqrt(n)
    assert p - all_up > 1.5 * band, "this many elements cannot tell the start states apart"
    mean = sum(shares) / n  # elements never down are not in `shares`: they count 0
    assert abs(mean - p) <= band, (
        f"down share {mean:.6f} over {n} elements, expected {p:.6f} ± {band:.6f} "
        f"({Z:g} standard errors); starting all up would give {all_up:.6f}"
    )


def test_a_one_day_run_of_default_cameras_and_access_links_is_at_steady_state(load):
    """The schema's default camera reliability (MTBF 43,800 h, MTTR 48 h) over one day: the
    steady state is 0.99890 available; starting up, a day would show 0.99977. Cameras and
    their access links fail independently with the same figures: pooled, 50,000 elements."""
    n = 25_000
    s = load(
        "stationary",
        f"cameras.0.count={n}",
        "network.access={capacity_mbps: 100, reliability: {mtbf_h: 43800, mttr_h: 48}}",
    )
    shares = _down_share(world_events(City.of(s)), DAY_S)
    assert {k.split(":")[0] for k in shares} == {"camera", "link"}
    _check(list(shares.values()), 2 * n, 43_800, 48, 24)


def _every_kind(districts: int, cameras_each: int, servers: int) -> Scenario:
    """A city where every kind of element fails often: MTBF 100 h, MTTR 20 h."""
    rel = {"mtbf_h": 100, "mttr_h": 20}
    link = {"capacity_mbps": 100000, "reliability": rel}
    names = [f"d{k}" for k in range(districts)]
    return Scenario.model_validate(
        {
            "name": "every kind",
            "simulation": {"start": "2026-03-02T00:00:00", "days": 1, "seed": 0},
            "activity": {"episodes_per_district_day": 0},
            "cameras": [
                {"name": f"c{d}", "count": cameras_each, "district": d, "reliability": rel}
                for d in names
            ],
            "network": {
                "access": {"capacity_mbps": 100, "reliability": rel},
                "districts": [{"name": d, "uplink": link, "backup": link} for d in names],
                "core": link,
            },
            "recording": {"servers": [{"name": "rec", "count": servers, "reliability": rel}]},
        }
    )


def test_every_kind_of_element_starts_stationary(reseed):
    """Cameras, access links, district uplinks and backups, the core and servers: over a day,
    each kind's mean down share is MTTR / (MTBF + MTTR) (here 1/6; starting up: 0.088)."""
    base = _every_kind(districts=20, cameras_each=5, servers=20)
    seeds = 25
    shares: dict[str, list[float]] = {}
    for seed in range(seeds):
        for who, v in _down_share(world_events(City.of(reseed(base, seed))), DAY_S).items():
            kind = who.split(":")[1] if who.startswith("link:") else who.split(":")[0]
            shares.setdefault(kind, []).append(v)
    count = {"camera": 100, "access": 100, "uplink": 20, "backup": 20, "server": 20}
    for kind, n in count.items():
        _check(shares.get(kind, []), n * seeds, 100, 20, 24)
    # the core, one a city: not enough of them to tell the two starts apart, but it starts
    # down in about p of the cities
    started_down = sum(v > 0 for v in shares.get("core", []))
    assert 1 <= started_down <= 12, started_down


def test_a_one_day_sizing_run_loses_the_stationary_share_of_recording(load):
    """The sizing run itself: recording availability of a day of failing cameras (MTBF 100 h,
    MTTR 20 h) is MTBF / (MTBF + MTTR), all of the loss blamed on the cameras. Down intervals
    widen to whole 60-s ticks: under 2 ticks per interval, about 1e-4 of the day here."""
    n = 2000
    s = load(
        "stationary",
        f"cameras.0.count={n}",
        "cameras.0.reliability.mtbf_h=100",
        "cameras.0.reliability.mttr_h=20",
    )
    rec = simulate(s).recording
    p, sd, all_up = _expected(100, 20, 24)
    band = Z * sd / math.sqrt(n) + 2 * 60 / DAY_S * (p + 24 / 100)
    assert p - all_up > 1.5 * band
    lost = 1 - rec.availability
    assert abs(lost - p) <= band, (lost, p, band, all_up)
    assert rec.lost_hours["camera"] == pytest.approx(rec.expected_hours - rec.recorded_hours)


def test_an_element_down_at_the_start_is_an_outage_from_zero():
    """An element that starts down is a *_down event at t = 0, then its repair; the sizing's
    states count it down from the first tick."""
    city = City.of(_every_kind(districts=4, cameras_each=5, servers=4))
    events = world_events(city)
    at_zero = [e for e in events if e.t == 0 and e.kind != "night"]
    assert {e.kind for e in at_zero} == {"camera_down", "link_down", "server_down"}, at_zero
    states = States(city, events, tick=60, ticks=1440)
    for e in at_zero:
        if e.camera is not None:
            assert states.camera_down[e.camera][0][0] == 0
        elif e.server is not None:
            assert not states.server_up[[r.name for r in city.recorders].index(e.server), 0]
