"""Operators and incidents against what can be computed by hand.

- PSDB detection shares at 1, 4, 6, 9 monitors, exactly; interpolated between, flat beyond.
- Tour coverage: an incident visible for D on a camera whose monitor shows it for d every L
  seconds is on screen with probability (D + d) / L; with certain detection and no waiting,
  that is the detected share. 20,000 incidents, within 4 standard errors (binomial).
- One operator, one camera always on screen, certain detection, incidents that stay visible:
  the operator is an M/M/1 server (Poisson incidents, exponential handling), so the mean time
  to detection is the M/M/1 mean wait ρ / (μ − λ) (plus at most one 1-s look) within 5 % over
  four years of incidents (single years of 8 seeds gave 1.00 – 1.06 × the analytic wait), and
  the share that waits at all, and the operator's busy share, are ρ within 0.02.
- Requests alone: their count is Poisson around the rate (4 standard errors) and the busy
  share is their work over the operators' time (5 %); requests queue behind each other, so a
  fleeting incident finds the operator free with probability 1 − ρ (M/M/1, within 0.03).
- Breaks: working 20 minutes in 30, an operator sees 2/3 of fleeting incidents (4 standard
  errors). Vigilance: 1 up to 30 minutes on task, linear to its 90-minute value, 1 again after
  a break, and never below 1 with breaks every 30 minutes. Hours nobody is on duty: nothing
  seen then, everything seen in the others.
- A request given during a break begins when it ends; one queued past its operator's shift
  goes to a colleague on duty; one queued into hours nobody is on duty waits for the next.
- Calibration: Strasbourg in 2016 (367 cameras) detects 611 incidents a year within 8 %.
- Nobody on duty: nothing is seen. Same seed: the same Watch; another seed: another. More
  cameras for the same operators: a smaller share detected.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
import yaml

from simulator.model.city import City
from simulator.model.incidents import draw_incidents, weekend_night
from simulator.model.operators import detection_probability, watch, watch_city
from simulator.model.wall import Wall
from simulator.scenario.loader import ScenarioError, load_scenario, validate
from simulator.scenario.watch import Incidents, Operators, Requests

START = dt.datetime(2026, 6, 15)  # a Monday
FLAT = [1.0] * 24
NO_REQUESTS = Requests(
    live_transfers_per_camera_year=0, reviews_per_camera_year=0,
    exports_per_camera_year=0, alarm_checks_per_camera_year=0,
)  # fmt: skip


def _watch(ops: Operators, inc: Incidents, cameras: int, seed: int = 1):  # noqa: ANN202
    rng = np.random.default_rng(seed)
    incidents = draw_incidents(inc, cameras, START, rng)
    return watch(ops, cameras, incidents, START, inc.days, rng)


def test_detection_follows_the_psdb_figures() -> None:
    assert [detection_probability(m) for m in (1, 4, 6, 9)] == [0.85, 0.74, 0.58, 0.53]
    assert detection_probability(5) == pytest.approx(0.66)
    assert detection_probability(16) == 0.53


def test_weekend_nights_are_friday_and_saturday_evenings() -> None:
    friday = dt.datetime(2026, 6, 19)
    assert weekend_night(friday.replace(hour=22))
    assert weekend_night(friday.replace(hour=23) + dt.timedelta(hours=1))  # Saturday 00:00
    assert not weekend_night(friday.replace(hour=17))
    assert not weekend_night(friday + dt.timedelta(days=2, hours=1))  # Sunday 01:00


def test_incident_counts_follow_the_rate() -> None:
    inc = Incidents(days=28, per_camera_day=0.5, weekend_night_factor=1.0, hourly=FLAT)
    rng = np.random.default_rng(3)
    got = len(draw_incidents(inc, 400, START, rng).start_s)
    want = 400 * 0.5 * 28
    assert abs(got - want) < 4 * math.sqrt(want)


def test_tour_coverage_matches_the_analytic_share() -> None:
    cameras, dwell, visible = 40, 10.0, 100.0
    ops = Operators(
        on_duty=[1] * 24, monitors_each=1, dwell_s=dwell, detection=1.0,
        handling_mean_min=1e-6, break_min=0, vigilance_at_90_min=1.0, requests=NO_REQUESTS,
    )  # fmt: skip
    inc = Incidents(
        days=28, per_camera_day=18.0, weekend_night_factor=1.0, hourly=FLAT,
        visible_median_s=visible, visible_sigma=0.0,
    )  # fmt: skip
    w = _watch(ops, inc, cameras)
    p = (visible + dwell) / (cameras * dwell)
    share = w.detected / w.incidents
    assert w.incidents > 18_000
    assert abs(share - p) < 4 * math.sqrt(p * (1 - p) / w.incidents), (share, p)
    assert w.away == 0 and w.unnoticed == 0 and w.unseen == w.incidents - w.detected


def test_one_operator_is_an_mm1_queue() -> None:
    handling_s, rho = 480.0, 0.5
    lam = rho / handling_s  # incidents per second
    ops = Operators(
        on_duty=[1] * 24, monitors_each=1, dwell_s=1.0, detection=1.0,
        handling_mean_min=handling_s / 60, break_min=0, vigilance_at_90_min=1.0,
        requests=NO_REQUESTS,
    )  # fmt: skip
    inc = Incidents(
        days=366, per_camera_day=lam * 86400, weekend_night_factor=1.0, hourly=FLAT,
        visible_median_s=1e9, visible_sigma=0.0,
    )  # fmt: skip
    runs = [_watch(ops, inc, cameras=1, seed=seed) for seed in range(4)]
    assert all(w.detected == w.incidents > 30_000 for w in runs)
    mu = 1 / handling_s
    wq = rho / (mu - lam)
    delays = np.concatenate([w.delays_s for w in runs])
    assert float(np.mean(delays)) == pytest.approx(wq, rel=0.05)
    assert float(np.mean(delays > 1.0)) == pytest.approx(rho, abs=0.02)
    assert float(np.mean([w.busy_share for w in runs])) == pytest.approx(rho, abs=0.02)


def test_nobody_on_duty_sees_nothing() -> None:
    w = _watch(Operators(on_duty=[0] * 24), Incidents(days=7), cameras=100)
    assert w.incidents > 0 and w.detected == 0 and w.unseen == w.incidents
    assert w.hours_unwatched == 24


def _strasbourg(extra: dict | None = None) -> dict:
    with open("scenarios/strasbourg.yaml", encoding="utf-8") as f:
        data = yaml.safe_load(f)
    data["incidents"] = {"days": 366}
    data.update(extra or {})
    return data


def test_same_seed_same_watch() -> None:
    s = validate(_strasbourg())
    a, b = (watch_city(City.of(s)) for _ in range(2))
    assert a is not None and b is not None
    assert (a.detected, a.unseen, a.away, a.unnoticed) == (
        b.detected,
        b.unseen,
        b.away,
        b.unnoticed,
    )
    assert np.array_equal(a.delays_s, b.delays_s) and np.array_equal(a.by_hour, b.by_hour)


def test_more_cameras_for_the_same_operators_means_fewer_detections() -> None:
    base = validate(_strasbourg())
    more = _strasbourg()
    more["cameras"][0]["count"] += 300
    shares = []
    for s in (base, validate(more)):
        w = watch_city(City.of(s))
        assert w is not None
        shares.append(w.detected / w.incidents)
    assert shares[1] < shares[0] - 0.03, shares


def test_no_operators_section_means_no_watch() -> None:
    data = _strasbourg()
    del data["operators"]
    assert watch_city(City.of(validate(data))) is None


def test_a_bad_rota_is_one_clear_line(tmp_path) -> None:  # noqa: ANN001
    data = _strasbourg({"operators": {"on_duty": [2] * 23}})
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    msg = str(err.value)
    assert "bad.yaml" in msg and "operators.on_duty" in msg and "\n" not in msg


def test_requests_keep_operators_busy_as_their_rates_say() -> None:
    """Without incidents, the busy share is the requests' work over the operators' time."""
    req = Requests(
        live_transfers_per_camera_year=20, live_transfer_min=10, reviews_per_camera_year=5,
        review_min=30, exports_per_camera_year=0, alarm_checks_per_camera_year=0,
    )  # fmt: skip
    ops = Operators(on_duty=[3] * 24, requests=req)
    w = _watch(ops, Incidents(days=366, per_camera_day=0.0), cameras=200)
    want_count = (20 + 5) * 200 * 366 / 365
    assert abs(w.requests - want_count) < 4 * math.sqrt(want_count)
    work_min = (20 * 10 + 5 * 30) * 200 / 365  # a day
    assert w.busy_share == pytest.approx(work_min / (3 * 1440), rel=0.05)


def test_calibration_strasbourg_2016() -> None:
    """The default incident rate is fitted so that Strasbourg's wall in 2016 (367 cameras, the
    bundled rota and defaults) detects about the 611 offences its operators signalled."""
    s = load_scenario("scenarios/strasbourg.yaml", ["incidents.days=366"])
    assert s.operators is not None
    per_year = []
    for seed in range(3):
        rng = np.random.default_rng(seed)
        inc = draw_incidents(s.incidents, 367, s.simulation.start, rng)
        w = watch(s.operators, 367, inc, s.simulation.start, 366, rng)
        per_year.append(w.detected * 365 / 366)
    assert float(np.mean(per_year)) == pytest.approx(611, rel=0.08)


def _always_on_screen(**kw: object) -> Operators:
    """One operator, one camera always on screen, certain detection, no requests."""
    base = dict(
        on_duty=[1] * 24, monitors_each=1, dwell_s=1.0, detection=1.0,
        handling_mean_min=1e-6, vigilance_at_90_min=1.0, requests=NO_REQUESTS,
    )  # fmt: skip
    return Operators(**{**base, **kw})  # type: ignore[arg-type]


def _fleeting(days: float = 366, per_day: float = 50.0) -> Incidents:
    """Incidents visible for a moment: seen only if the operator looks just then."""
    return Incidents(
        days=days, per_camera_day=per_day, weekend_night_factor=1.0, hourly=FLAT,
        visible_median_s=0.01, visible_sigma=0.0,
    )  # fmt: skip


def test_breaks_take_their_share_of_the_time() -> None:
    """Work 20 minutes, rest 10: a fleeting incident is seen two times in three."""
    ops = _always_on_screen(break_every_min=20, break_min=10)
    w = _watch(ops, _fleeting(), cameras=1)
    p = 20 / 30
    assert abs(w.detected / w.incidents - p) < 4 * math.sqrt(p * (1 - p) / w.incidents)
    assert w.detected + w.away == w.incidents


def test_vigilance_falls_after_30_minutes_on_task() -> None:
    ops = _always_on_screen(break_every_min=120, break_min=10, vigilance_at_90_min=0.6)
    wall = Wall(ops, 1, START)
    assert [wall.vigilance(0, m * 60.0) for m in (0, 30, 60, 90, 115)] == pytest.approx(
        [1.0, 1.0, 0.8, 0.6, 0.6]
    )
    assert wall.vigilance(0, 131 * 60.0) == 1.0  # back from the break (120-130 min)
    # breaks every 30 minutes keep the operators vigilant
    wall = Wall(_always_on_screen(vigilance_at_90_min=0.1), 1, START)
    assert min(wall.vigilance(0, m * 60.0) for m in range(0, 600, 7)) == 1.0


def test_nobody_sees_what_happens_in_the_hours_nobody_is_on_duty() -> None:
    ops = _always_on_screen(on_duty=[1, 0] * 12, break_min=0)
    w = _watch(ops, _fleeting(days=28), cameras=1)
    assert w.by_hour[1::2, 1].sum() == 0 and w.by_hour[1::2, 0].sum() > 0
    assert w.by_hour[0::2, 1].sum() == w.by_hour[0::2, 0].sum()
    assert w.hours_unwatched == 12


def test_requests_queue_behind_each_other() -> None:
    """Requests (Poisson, exponential) make one operator an M/M/1 server: a fleeting incident
    finds the operator free with probability 1 − ρ (arrivals see time averages)."""
    req = Requests(
        live_transfers_per_camera_year=365 * 72, live_transfer_min=10,  # ρ = 72 × 10 / 1440
        reviews_per_camera_year=0, exports_per_camera_year=0, alarm_checks_per_camera_year=0,
    )  # fmt: skip
    ops = _always_on_screen(break_min=0, requests=req)
    w = _watch(ops, _fleeting(), cameras=1)
    rho = 72 * 10 / 1440
    assert w.detected / w.incidents == pytest.approx(1 - rho, abs=0.03)
    assert w.busy_share == pytest.approx(rho, abs=0.03)


def test_another_seed_another_watch(reseed) -> None:  # noqa: ANN001
    s = validate(_strasbourg())
    a, b = (watch_city(City.of(reseed(s, seed))) for seed in (1, 2))
    assert a is not None and b is not None
    assert not np.array_equal(a.delays_s, b.delays_s)


def test_a_request_waits_for_its_operator_to_be_free_back_and_on_duty() -> None:
    """Work 20 minutes, rest 10: a request given during the break begins when it ends; one
    queued past the end of its operator's shift goes to a colleague on duty; one queued into
    hours nobody is on duty waits for the next shift."""
    wall = Wall(_always_on_screen(break_every_min=20, break_min=10), 1, START)
    assert wall.take(0, 25 * 60.0) == (0, 30 * 60.0)
    assert wall.take(0, 5 * 60.0) == (0, 5 * 60.0)
    wall.busy_until[0] = 21 * 60.0
    assert wall.take(0, 5 * 60.0) == (0, 30 * 60.0)  # busy until the break, then away
    a, b = wall.work_periods(0, 0.0, 3600.0)
    assert a.tolist() == [0.0, 1800.0] and b.tolist() == [1200.0, 3000.0]
    wall = Wall(_always_on_screen(on_duty=[2] + [1] * 23, break_min=0), 1, START)
    wall.busy_until[1] = 4000.0
    assert wall.take(1, 3000.0) == (0, 4000.0)
    wall = Wall(_always_on_screen(on_duty=[1] + [0] * 22 + [1], break_min=0), 1, START)
    wall.busy_until[0] = 3700.0
    assert wall.take(0, 3000.0) == (0, 23 * 3600.0)
