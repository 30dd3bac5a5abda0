"""The load test's Prometheus exposition: actions, dispatch lag, requests and RTSP viewing,
per process, on 127.0.0.1 (prometheus_client, a registry of its own).

It listens to `events.request` where requests happen (a local runner or each worker), so
with several processes Prometheus scrapes each one (port + worker index) and sums.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, make_wsgi_app

from loadtests.users.dispatcher import DISPATCH

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
                   60, 300)  # fmt: skip
LAG_BUCKETS = (0.0001, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 5)
OUTCOMES = ("ok", "failed")


class LoadMetrics:
    """Counters and histograms fed by `events.request` (names stay low-cardinality: action
    kinds and request names, never camera ids)."""

    def __init__(self, process: str = "local") -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r, p = self.registry, ["process"]
        self.process = process
        self.actions = Counter("camsim_load_actions", "operators' actions ended", [*p, "kind",
                               "outcome"], registry=r)  # fmt: skip
        self.action_seconds = Histogram(
            "camsim_load_action_seconds", "action duration, start to end", [*p, "kind"],
            buckets=LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.dispatched = Counter("camsim_load_dispatched", "actions the dispatcher reached",
                                  [*p, "kind", "outcome"], registry=r)  # fmt: skip
        self.lag = Histogram(
            "camsim_load_dispatch_lag_seconds", "action start after its due time (ours)",
            [*p, "kind"], buckets=LAG_BUCKETS, registry=r,
        )  # fmt: skip
        self.in_flight = Gauge("camsim_load_actions_in_flight", "actions running", p, registry=r)
        self.requests = Counter("camsim_load_requests", "requests to the target and RTSP steps",
                                [*p, "type", "name", "outcome"], registry=r)  # fmt: skip
        self.request_seconds = Histogram(
            "camsim_load_request_seconds", "request response time", [*p, "type", "name"],
            buckets=LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.rtsp_frames = Counter("camsim_load_rtsp_frames", "frames RTSP viewers received", p,
                                   registry=r)  # fmt: skip
        self.rtsp_bytes = Counter("camsim_load_rtsp_bytes", "RTP payload bytes received", p,
                                  registry=r)  # fmt: skip
        self.rtsp_seq_gaps = Counter("camsim_load_rtsp_seq_gaps", "RTP packets missing", p,
                                     registry=r)  # fmt: skip
        self.rtsp_latency = Histogram(
            "camsim_load_rtsp_latency_seconds", "camera-to-viewer latency from the SEI send time",
            p, buckets=LAG_BUCKETS + (10, 30), registry=r,
        )  # fmt: skip
        self.rtsp_viewers = Gauge("camsim_load_rtsp_viewers", "RTSP viewers playing", p,
                                  registry=r)  # fmt: skip

    def on_request(self, request_type: str, name: str, response_time: float,
                   exception: Any = None, **_: Any) -> None:  # fmt: skip
        """An `events.request` listener."""
        outcome = OUTCOMES[exception is not None]
        seconds = (response_time or 0.0) / 1000.0
        if request_type == "ACTION":
            self.actions.labels(self.process, name, outcome).inc()
            self.action_seconds.labels(self.process, name).observe(seconds)
        elif request_type == DISPATCH:
            why = "ok" if exception is None else type(exception).__name__.lower()
            self.dispatched.labels(self.process, name, why).inc()
            self.lag.labels(self.process, name).observe(seconds)
        else:
            self.requests.labels(self.process, request_type, name, outcome).inc()
            self.request_seconds.labels(self.process, request_type, name).observe(seconds)

    def wsgi(self):  # noqa: ANN201
        return make_wsgi_app(self.registry)


def serve(metrics: LoadMetrics, port: int, host: str = "127.0.0.1"):  # noqa: ANN201
    """Serve /metrics on host:port under gevent (port 0: any); returns the started server."""
    from gevent.pywsgi import WSGIServer

    server = WSGIServer((host, port), metrics.wsgi(), log=None, error_log=None)
    server.start()
    return server
