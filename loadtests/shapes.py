"""The load's shape over the scenario's day, compressed by --camsim-speed.

The operators' desks (one per process) run from start to the end of the schedule; RTSP
viewers follow the wall, the operators on duty that hour times their monitors (at most
--camsim-rtsp-viewers). The test ends once the schedule is over and every action started has
ended (or --camsim-grace-s after the schedule), or at --run-time.
"""

from __future__ import annotations

from locust import LoadTestShape

from loadtests.users.actions import ACTION, INTEGRATION
from loadtests.users.dispatcher import DISPATCH
from loadtests.users.operator import IntegrationUser, OperatorUser, plan_of
from loadtests.users.rtsp_viewer import RtspViewerUser


def unfinished(stats) -> int:  # noqa: ANN001
    """Actions started and not yet ended, as the (master's) statistics say."""
    from locust.stats import StatsError

    reached = sum(e.num_requests for (_, m), e in stats.entries.items() if m == DISPATCH)
    dropped = sum(
        x.occurrences
        for x in stats.errors.values()
        if x.method == DISPATCH and StatsError.parse_error(x.error).startswith("Dropped(")
    )
    ended = sum(e.num_requests for (_, m), e in stats.entries.items() if m in (ACTION, INTEGRATION))
    return reached - dropped - ended


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
        ends = s.lead_s + (plan.end_s - s.start_at) / s.speed
        if run_time and t > run_time:
            return None
        if t > ends and (t > ends + s.grace_s or unfinished(self.runner.stats) == 0):
            return None
        ops = desks(self.runner)
        OperatorUser.fixed_count = ops
        users: list[type] = [OperatorUser]
        if s.integration:
            IntegrationUser.fixed_count = ops
            users.append(IntegrationUser)
        sim = s.start_at + max(0.0, t - s.lead_s) * s.speed
        viewers = 0
        if s.rtsp_viewers > 0:
            staff = plan.on_duty(sim)  # without a rota: the viewers throughout
            wall = s.rtsp_viewers if staff is None else staff * plan.monitors_each
            viewers = min(s.rtsp_viewers, wall)
        fixed = ops * len(users)
        if not viewers:
            return fixed, fixed, users
        return fixed + viewers, max(1.0, float(fixed + viewers)), [*users, RtspViewerUser]
