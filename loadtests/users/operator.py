"""The operators' user: one per process, owning the dispatcher that replays its shard of the
schedule through the target.

The locustfile makes `OperatorUser.fixed_count` the number of processes that replay (so
Locust, which hands fixed-count users round-robin to workers, gives each one exactly one);
the shard is the process's worker index. A second operator user in one process stays idle
and says so: the schedule is never replayed twice.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import gevent
from locust import User, task

from loadtests.plan import Plan, Settings, camera_map, make_target
from loadtests.schedule import dues, shard
from loadtests.soak import NormalisingHook, failure
from loadtests.targets.http import FastClient
from loadtests.users.actions import Actions, Replay
from loadtests.users.dispatcher import Dispatcher
from simulator.timeline.clock import ReplayClock

log = logging.getLogger(__name__)
SETUP = "SETUP"  # request_type of a desk that could not start


def plan_of(environment: Any) -> Plan:
    """The process's plan, built once from its (current) camsim options."""
    settings = Settings.of(environment.parsed_options)
    plan = getattr(environment, "camsim_plan", None)
    if plan is None or plan.settings != settings:
        plan = Plan(settings)
        environment.camsim_plan = plan
    return plan


def shard_position(environment: Any, settings: Settings) -> tuple[int, int]:
    """(this process's shard, shards): the worker index among the master's workers."""
    runner = environment.runner
    index = int(getattr(runner, "worker_index", 0) or 0)
    shards = max(1, int(settings.shards))
    if index >= shards:
        raise ValueError(f"worker index {index} but only {shards} shards: restart the test")
    return index, shards


class OperatorUser(User):
    """The supervision centre's operators of this process: their actions, open-model."""

    fixed_count = 1

    def on_start(self) -> None:
        env = self.environment
        self.dispatcher: Dispatcher | None = None
        if getattr(env, "camsim_desk", None) is not None:
            log.warning("a second OperatorUser in this process stays idle (one per process)")
            return
        env.camsim_desk = self
        try:
            self.dispatcher = self._desk()
        except Exception as exc:  # noqa: BLE001 - reported, then this user stops
            env.events.request.fire(
                request_type=SETUP, name="operator", response_time=0.0, response_length=0,
                exception=failure(exc), context={},
            )  # fmt: skip
            log.error("operator desk: %s", exc)
            return
        metrics = getattr(env, "camsim_metrics", None)
        if metrics is not None:
            d = self.dispatcher
            metrics.in_flight.labels(metrics.process).set_function(lambda: d.in_flight)
        self.dispatcher.start()

    def _desk(self) -> Dispatcher:
        env = self.environment
        plan = plan_of(env)
        s = plan.settings
        index, shards = shard_position(env, s)
        fire = env.events.request.fire
        # a connection for each action in flight (a smaller pool would queue actions behind
        # slow answers: coordinated omission), kept alive; each request a Locust event
        client = FastClient(s.timeout_s, NormalisingHook(fire).fire, pool_size=s.max_in_flight)
        target = make_target(s, client, env.host or "")
        target.login()
        cameras = camera_map(s, target)
        mine = shard(plan.actions, index, shards)
        origin_unix = s.origin or time.time()
        origin = time.monotonic() + (origin_unix - time.time())
        clock = ReplayClock(s.speed, s.start_at).started(origin)
        actions = Actions(target, cameras, Replay(clock, origin_unix), fire)
        log.info("operator desk %d/%d: %d actions", index + 1, shards, len(mine))
        return Dispatcher(
            dues(mine, clock), actions.run, fire,
            max_in_flight=s.max_in_flight, late_s=s.late_ms / 1000,
        )  # fmt: skip

    @task
    def watch(self) -> None:
        """The dispatcher does the work; the user only waits for it."""
        if self.dispatcher is None:
            gevent.sleep(1.0)
        else:
            self.dispatcher.join(timeout=1.0)
            gevent.sleep(0.2)

    def on_stop(self) -> None:
        if self.dispatcher is not None:
            self.dispatcher.stop()
        if getattr(self.environment, "camsim_desk", None) is self:
            self.environment.camsim_desk = None
