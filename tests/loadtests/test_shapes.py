"""The day's shape: desks throughout, RTSP viewers by the operators on duty, the end."""

from __future__ import annotations

import os
from argparse import Namespace
from pathlib import Path
from types import SimpleNamespace

os.environ["LOCUST_SKIP_MONKEY_PATCH"] = "1"  # Locust's classes, not its patching of pytest
try:
    from locust.stats import RequestStats

    from loadtests.shapes import CityDay
    from loadtests.users.operator import OperatorUser
    from loadtests.users.rtsp_viewer import RtspViewerUser
finally:
    del os.environ["LOCUST_SKIP_MONKEY_PATCH"]

STRASBOURG = Path(__file__).parents[2] / "scenarios" / "strasbourg.yaml"


def shape(workers: int, **options: object) -> CityDay:
    opts = {"camsim_scenario": str(STRASBOURG), "camsim_cameras": "3", "camsim_speed": 3600.0,
            "camsim_rtsp_viewers": 10, "camsim_lead_s": 0.0, "camsim_grace_s": 5.0,
            "run_time": None, **options}  # fmt: skip
    env = SimpleNamespace(parsed_options=Namespace(**opts))
    s = CityDay()
    s.runner = SimpleNamespace(environment=env, worker_count=workers, stats=RequestStats())
    return s


def at(s: CityDay, t: float):  # noqa: ANN201
    s.get_run_time = lambda: t  # the shape's clock, set
    return s.tick()


def test_viewers_follow_the_operators_on_duty_and_desks_the_workers() -> None:
    s = shape(workers=2)
    # Strasbourg's rota: 2 on duty from midnight, 4 from 07:00 (×4 monitors, at most 10)
    users, _, classes = at(s, 3.0)  # 03:00 at speed 3600
    assert (users, classes) == (2 + 8, [OperatorUser, RtspViewerUser])
    users, _, _ = at(s, 9.0)
    assert users == 2 + 10
    assert OperatorUser.fixed_count == 2


def test_the_test_ends_after_the_schedule_or_at_the_run_time() -> None:
    s = shape(workers=1, camsim_rtsp_viewers=0)
    assert at(s, 10.0) == (1, 1, [OperatorUser])
    plan_end = s.runner.environment.camsim_plan.end_s
    # every action started has ended (none did here): over once the schedule is
    assert at(s, plan_end / 3600 + 0.1) is None
    assert at(shape(workers=1, run_time=5), 6.0) is None
