"""camsim's Locust file: the operators' actions of a scenario, replayed open-model against a
system under test, plus RTSP viewers of camsim's cameras.

    locust -f loadtests/locustfile.py --host http://127.0.0.1:8089/zm \\
        --camsim-scenario scenarios/strasbourg.yaml --camsim-speed 60

`camsim loadtest` runs it headless. Here the hooks wire the parts: the options, the shard
each process replays, the Prometheus endpoint, the bounded statistics and the summary.
"""

from __future__ import annotations

import json
import logging
import time

from locust import events
from locust.runners import MasterRunner, WorkerRunner

from loadtests.bounded_stats import Trimmer
from loadtests.plan import add_arguments
from loadtests.prometheus import LoadMetrics, serve
from loadtests.shapes import CityDay, desks
from loadtests.summary import summary_of
from loadtests.users.operator import IntegrationUser, OperatorUser, plan_of
from loadtests.users.rtsp_viewer import RtspViewerUser

__all__ = ["CityDay", "IntegrationUser", "OperatorUser", "RtspViewerUser"]
log = logging.getLogger("camsim")


@events.init_command_line_parser.add_listener
def _arguments(parser) -> None:  # noqa: ANN001
    add_arguments(parser)


@events.init.add_listener
def _init(environment, **_) -> None:  # noqa: ANN001
    runner = environment.runner
    if not isinstance(runner, WorkerRunner):
        environment.camsim_trimmer = Trimmer(runner.stats)
        environment.camsim_trimmer.start()
    opts = environment.parsed_options
    if isinstance(runner, MasterRunner):
        return
    metrics = LoadMetrics()
    environment.camsim_metrics = metrics
    environment.events.request.add_listener(metrics.on_request)
    if opts.camsim_actions_log:
        from loadtests.actionlog import ActionLog

        environment.camsim_actions_log = ActionLog(opts.camsim_actions_log)
        environment.events.request.add_listener(environment.camsim_actions_log.on_request)
    if opts.camsim_metrics_port >= 0 and not isinstance(runner, WorkerRunner):
        environment.camsim_metrics_server = serve(metrics, opts.camsim_metrics_port)


@events.test_start.add_listener
def _test_start(environment, **_) -> None:  # noqa: ANN001
    runner, opts = environment.runner, environment.parsed_options
    if isinstance(runner, WorkerRunner):
        _worker_metrics(environment)
        _ = plan_of(environment).actions  # built now, before the replay's origin
        return
    opts.camsim_shards = desks(runner)
    opts.camsim_origin = time.time() + opts.camsim_lead_s
    OperatorUser.fixed_count = opts.camsim_shards
    IntegrationUser.fixed_count = opts.camsim_shards if opts.camsim_integration else 0
    log.info("camsim: %d actions over %d desk(s)", len(plan_of(environment).actions),
             opts.camsim_shards)  # fmt: skip


def _worker_metrics(environment) -> None:  # noqa: ANN001
    """A worker's own Prometheus endpoint: the base port plus its index."""
    metrics = getattr(environment, "camsim_metrics", None)
    if metrics is not None and getattr(environment, "camsim_metrics_server", None) is None:
        port = environment.parsed_options.camsim_metrics_port
        if port >= 0:
            metrics.process = f"worker-{environment.runner.worker_index}"
            environment.camsim_metrics_server = serve(
                metrics, port + 1 + environment.runner.worker_index if port else 0
            )


@events.test_stop.add_listener
def _test_stop(environment, **_) -> None:  # noqa: ANN001
    actions_log = getattr(environment, "camsim_actions_log", None)
    if actions_log is not None:
        actions_log.flush()


@events.quitting.add_listener
def _quitting(environment, **_) -> None:  # noqa: ANN001
    actions_log = getattr(environment, "camsim_actions_log", None)
    if actions_log is not None:
        actions_log.close()
    path = getattr(environment.parsed_options, "camsim_summary", None)
    if path and not isinstance(environment.runner, WorkerRunner):
        stats, trimmer = environment.runner.stats, environment.camsim_trimmer
        trimmer.flush()
        outage = trimmer.outage(stats.total.start_time)
        with open(path, "w", encoding="utf-8") as f:
            json.dump(summary_of(stats, plan_of(environment), outage=outage), f, indent=1)
