"""The desks that replay the schedule: the operators' user (one per process, owning the
dispatcher that replays its shard of the schedule through the target) and the alarm
integration's (the alarms of the same shard, raised when due).

The locustfile makes `OperatorUser.fixed_count` the number of processes that replay (so
Locust, which hands fixed-count users round-robin to workers, gives each one exactly one);
the shard is the process's worker index. A second operator user in one process stays idle
and says so: the schedule is never replayed twice.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import gevent
from locust import User, task

from loadtests.bounded_stats import NormalisingHook, failure
from loadtests.plan import Plan, Settings, camera_map, make_target
from loadtests.schedule import dues, shard
from loadtests.users.actions import Actions, AnchoredClock
from loadtests.users.dispatcher import Dispatcher
from simulator.targets.http import FastClient
from simulator.timeline.clock import ReplayClock
from simulator.timeline.event import Event

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


class Desk(User):
    """A user that replays part of the schedule open-model through the target: one per
    process (a second one in a process stays idle and says so), on its process's shard."""

    abstract = True
    role = "desk"

    def select(self, event: Event) -> bool:
        """Whether this desk replays the event."""
        raise NotImplementedError

    def runner(self, actions: Actions) -> Callable[[Event], None]:
        """What the desk does with each of its events."""
        raise NotImplementedError

    def on_start(self) -> None:
        env = self.environment
        self.dispatcher: Dispatcher | None = None
        slot = f"camsim_{self.role}"
        if getattr(env, slot, None) is not None:
            log.warning("a second %s in this process stays idle (one per process)", self.role)
            return
        setattr(env, slot, self)
        try:
            self.dispatcher = self._desk()
        except Exception as exc:  # noqa: BLE001 - reported, then this user stops
            env.events.request.fire(
                request_type=SETUP, name=self.role, response_time=0.0, response_length=0,
                exception=failure(exc), context={},
            )  # fmt: skip
            log.error("%s desk: %s", self.role, exc)
            return
        metrics = getattr(env, "camsim_metrics", None)
        if metrics is not None and self.role == "operator":
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
        mine = [e for e in shard(plan.actions, index, shards) if self.select(e)]
        origin_unix = s.origin or time.time()
        origin = time.monotonic() + (origin_unix - time.time())
        clock = ReplayClock(s.speed, s.start_at).started(origin)
        anchored = AnchoredClock(clock, origin_unix)
        actions = Actions(target, cameras, anchored, fire, integration=s.integration)
        log.info("%s desk %d/%d: %d actions", self.role, index + 1, shards, len(mine))
        return Dispatcher(
            dues(mine, clock, prefix="" if self.role == "operator" else f"{self.role}/"),
            self.runner(actions), fire, max_in_flight=s.max_in_flight, late_s=s.late_ms / 1000,
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
        slot = f"camsim_{self.role}"
        if getattr(self.environment, slot, None) is self:
            setattr(self.environment, slot, None)


class OperatorUser(Desk):
    """The supervision centre's operators of this process: their actions, open-model."""

    fixed_count = 1
    role = "operator"

    def select(self, event: Event) -> bool:
        return True

    def runner(self, actions: Actions) -> Callable[[Event], None]:
        return actions.run


class IntegrationUser(Desk):
    """An alarm integration (intrusion panel, video analytics, a help point) posting each
    alarm of the schedule into the target when it is due: with `--camsim-integration` the
    operators' alarm checks only acknowledge what it raised. The alarms are the model's (the
    timeline's `alarm` actions: the scenario's `alarm_checks_per_camera_year`)."""

    fixed_count = 0  # the locustfile's shape makes it one per process when asked for
    role = "integration"

    def select(self, event: Event) -> bool:
        return event.kind == "alarm"

    def runner(self, actions: Actions) -> Callable[[Event], None]:
        return actions.post_alarm
