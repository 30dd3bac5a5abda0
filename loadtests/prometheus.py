"""The load test's Prometheus exposition: actions, dispatch lag, requests and RTSP viewing,
per process, on 127.0.0.1 (prometheus_client, a registry of its own).

It listens to `events.request` where requests happen (a local runner or each worker), so
with several processes Prometheus scrapes each one (port + worker index) and sums. The
per-request series are counted in plain Python (`Tally`: a count, a sum and a bucket per
bound, for each request type, name and outcome) and turned into Prometheus families when
scraped: a prometheus_client metric takes a lock and a label lookup on every update, which
cost more than the rest of a request's bookkeeping.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, make_wsgi_app
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric

from loadtests.users.dispatcher import DISPATCH

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
                   60, 300)  # fmt: skip
LAG_BUCKETS = (0.0001, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 5)
OUTCOMES = ("ok", "failed")
ACTION = "ACTION"

Key = tuple[str, str, "str | None"]  # (request type, name, exception class or None)


class Tally:
    """The request events, counted: for each (type, name, exception class) a count, a sum of
    seconds and a count per histogram bucket. As many keys as Locust has statistics entries
    and error classes (types, action kinds, request names: never camera ids)."""

    def __init__(self) -> None:
        self.rows: dict[Key, list[Any]] = {}  # key → [count, sum_s, per-bucket counts]

    def add(self, request_type: str, name: str, why: str | None, seconds: float) -> None:
        key = (request_type, name, why)
        row = self.rows.get(key)
        if row is None:
            bounds = self.bounds(request_type)
            row = self.rows[key] = [0, 0.0, [0] * (len(bounds) + 1)]
        row[0] += 1
        row[1] += seconds
        row[2][bisect_left(self.bounds(request_type), seconds)] += 1

    @staticmethod
    def bounds(request_type: str) -> tuple[float, ...]:
        return LAG_BUCKETS if request_type == DISPATCH else LATENCY_BUCKETS


#: Per kind of row: (counter name, help, labels), (histogram name, help, labels), buckets.
FAMILIES = {
    ACTION: (("camsim_load_actions", "operators' actions ended", ["kind", "outcome"]),
             ("camsim_load_action_seconds", "action duration, start to end", ["kind"]),
             LATENCY_BUCKETS),
    DISPATCH: (("camsim_load_dispatched", "actions the dispatcher reached", ["kind", "outcome"]),
               ("camsim_load_dispatch_lag_seconds", "action start after its due time (ours)",
                ["kind"]), LAG_BUCKETS),
    "": (("camsim_load_requests", "requests to the target and RTSP steps",
          ["type", "name", "outcome"]),
         ("camsim_load_request_seconds", "request response time", ["type", "name"]),
         LATENCY_BUCKETS),
}  # fmt: skip


class RequestCollector:
    """The Prometheus families of a `Tally`, built when scraped, under the names and labels
    prometheus_client's metrics gave them before (the Grafana dashboard queries them)."""

    def __init__(self, metrics: LoadMetrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[Metric]:
        p = self.metrics.process
        counts: dict[str, dict[tuple[str, ...], int]] = {k: {} for k in FAMILIES}
        hists: dict[str, dict[tuple[str, ...], list[Any]]] = {k: {} for k in FAMILIES}
        for (rtype, name, why), (n, total, buckets) in self.metrics.tally.rows.items():
            outcome = OUTCOMES[why is not None]
            if rtype == ACTION:
                which, labels, hlabels = ACTION, (p, name, outcome), (p, name)
            elif rtype == DISPATCH:
                labels = (p, name, "ok" if why is None else why.lower())
                which, hlabels = DISPATCH, (p, name)
            else:
                which, labels, hlabels = "", (p, rtype, name, outcome), (p, rtype, name)
            counts[which][labels] = counts[which].get(labels, 0) + n
            h = hists[which].setdefault(hlabels, [0.0, [0] * len(buckets)])
            h[0] += total
            h[1] = [a + b for a, b in zip(h[1], buckets, strict=True)]
        for which, ((cname, chelp, clabels), (hname, hhelp, hlabels), bounds) in FAMILIES.items():
            counter = CounterMetricFamily(cname, chelp, labels=["process", *clabels])
            for labels, n in sorted(counts[which].items()):
                counter.add_metric(labels, n)
            hist = HistogramMetricFamily(hname, hhelp, labels=["process", *hlabels])
            for labels, (total, buckets) in sorted(hists[which].items()):
                hist.add_metric(labels, _cumulative(bounds, buckets), total)
            yield counter
            yield hist


def _cumulative(bounds: tuple[float, ...], counts: list[int]) -> list[tuple[str, int]]:
    """Per-bucket counts as Prometheus's cumulative (le, count) pairs, +Inf last."""
    out, running = [], 0
    for bound, n in zip((*bounds, float("inf")), counts, strict=True):
        running += n
        out.append(("+Inf" if bound == float("inf") else repr(float(bound)), running))
    return out


class LoadMetrics:
    """Counters and histograms fed by `events.request` (names stay low-cardinality: action
    kinds and request names, never camera ids), plus the in-flight and RTSP series."""

    def __init__(self, process: str = "local") -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r, p = self.registry, ["process"]
        self.process = process  # the `process` label (a worker's is set once it knows it)
        self.tally = Tally()
        r.register(RequestCollector(self))
        self.in_flight = Gauge("camsim_load_actions_in_flight", "actions running", p, registry=r)
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
        why = None if exception is None else type(exception).__name__
        self.tally.add(request_type, name, why, (response_time or 0.0) / 1000.0)

    def wsgi(self):  # noqa: ANN201
        return make_wsgi_app(self.registry)


def serve(metrics: LoadMetrics, port: int, host: str = "127.0.0.1"):  # noqa: ANN201
    """Serve /metrics on host:port under gevent (port 0: any); returns the started server."""
    from gevent.pywsgi import WSGIServer

    server = WSGIServer((host, port), metrics.wsgi(), log=None, error_log=None)
    server.start()
    return server
