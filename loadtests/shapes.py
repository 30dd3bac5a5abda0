"""The load's shape over the scenario's day, compressed by --camsim-speed.

The operators' desks (one per process) run from start to the end of the schedule; RTSP
viewers follow the wall, the operators on duty that hour times their monitors (at most
--camsim-rtsp-viewers). The test ends once the last action has ended (plus the grace), or at
--run-time.
"""

from __future__ import annotations

from locust import LoadTestShape

from loadtests.users.operator import OperatorUser, plan_of
from loadtests.users.rtsp_viewer import RtspViewerUser


def desks(runner) -> int:  # noqa: ANN001
    """Processes that replay the schedule: the master's workers, or this one."""
    return max(1, int(getattr(runner, "worker_count", 1) or 1))


class CityDay(LoadTestShape):
    """Operators' desks throughout; RTSP viewers by the operators on duty each hour."""

    use_common_options = True

    def tick(self):  # noqa: ANN201
        env = self.runner.environment
        plan = plan_of(env)
        s = plan.settings
        t = self.get_run_time()
        run_time = getattr(env.parsed_options, "run_time", None)
        ends = s.lead_s + (plan.end_s - s.start_at) / s.speed + s.grace_s
        if t > ends or (run_time and t > run_time):
            return None
        ops = desks(self.runner)
        OperatorUser.fixed_count = ops
        sim = s.start_at + max(0.0, t - s.lead_s) * s.speed
        viewers = 0
        if s.rtsp_viewers > 0:
            viewers = min(s.rtsp_viewers, plan.on_duty(sim) * plan.monitors_each)
        if not viewers:
            return ops, ops, [OperatorUser]
        return ops + viewers, max(1.0, float(ops + viewers)), [OperatorUser, RtspViewerUser]
