"""The run's summary by action: what was scheduled, dispatched and done, how fast, how late.

Built from Locust's statistics (on the master they are every worker's together): ACTION
entries are the actions, DISPATCH entries the dispatcher's lag (failures there are late
starts and drops), UNSUPPORTED the steps the target cannot do, RTSP the viewers. `table`
needs no Locust (the `camsim loadtest` process never imports it).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from loadtests.schedule import ACTIONS
from loadtests.users.actions import ACTION, INTEGRATION, UNSUPPORTED
from loadtests.users.dispatcher import DISPATCH

PERCENTILES = (0.5, 0.95, 0.99)


def _percentiles(entry: Any) -> dict[str, float]:
    if entry is None or not entry.num_requests:
        return {f"p{int(q * 100)}_ms": 0.0 for q in PERCENTILES}
    return {
        f"p{int(q * 100)}_ms": float(entry.get_response_time_percentile(q)) for q in PERCENTILES
    }


def summary_of(stats: Any, plan: Any = None, until_s: float | None = None,
               outage: dict | None = None) -> dict:  # fmt: skip
    """{"actions": {kind: row}, "rtsp": {name: row}, "unsupported": {step: n}, "errors": [...]}
    from Locust's RequestStats."""
    from locust.stats import StatsError  # here: importing locust monkey-patches the process

    late: Counter[str] = Counter()
    dropped: Counter[str] = Counter()
    errors = []
    for e in stats.errors.values():
        text = StatsError.parse_error(e.error)
        if e.method == DISPATCH and text.startswith("LateStart("):
            late[e.name] += e.occurrences
        elif e.method == DISPATCH and text.startswith("Dropped("):
            dropped[e.name] += e.occurrences
        else:
            errors.append({"type": e.method, "name": e.name, "error": text,
                           "occurrences": e.occurrences})  # fmt: skip
    scheduled: Counter[str] = Counter()
    if plan is not None:
        scheduled.update(e.kind for e in plan.actions if until_s is None or e.t <= until_s)
    actions = {}
    for kind in sorted(ACTIONS):
        done = stats.entries.get((kind, ACTION))
        lag = stats.entries.get((kind, DISPATCH))
        if not (done or lag or scheduled[kind]):
            continue
        reached = lag.num_requests if lag else 0
        actions[kind] = {
            "scheduled": scheduled[kind],
            "dispatched": reached - dropped[kind],
            "count": done.num_requests if done else 0,
            "failures": done.num_failures if done else 0,
            **_percentiles(done),
            "lag_p99_ms": float(lag.get_response_time_percentile(0.99)) if reached else 0.0,
            "lag_max_ms": float(lag.max_response_time) if reached else 0.0,
            "late": late[kind],
            "dropped": dropped[kind],
        }
    rtsp, integration = {}, {}
    unsupported = {}
    for (name, method), entry in stats.entries.items():
        if method == INTEGRATION:  # the alarms an IntegrationUser raised, with its lag
            lag = stats.entries.get((f"integration/{name}", DISPATCH))
            integration[name] = {
                "scheduled": scheduled[name], "count": entry.num_requests,
                "failures": entry.num_failures, **_percentiles(entry),
                "lag_p99_ms": float(lag.get_response_time_percentile(0.99)) if lag else 0.0,
                "late": late[f"integration/{name}"], "dropped": dropped[f"integration/{name}"],
            }  # fmt: skip
        elif method == "RTSP":
            rtsp[name] = {"count": entry.num_requests, "failures": entry.num_failures,
                          **_percentiles(entry)}  # fmt: skip
        elif method == UNSUPPORTED:
            unsupported[name] = entry.num_requests
    errors.sort(key=lambda r: -r["occurrences"])
    return {"actions": actions, "integration": integration, "rtsp": rtsp,
            "unsupported": unsupported, "errors": errors[:20],
            "outage": outage or {"failing_minutes": 0}}  # fmt: skip


def table(summary: dict) -> str:
    """The summary as a text table, one line per action kind."""
    head = ("action", "sched", "done", "fail", "p50 ms", "p95 ms", "p99 ms", "lag p99", "late",
            "dropped")  # fmt: skip
    rows = [head]
    desks = [
        *summary["actions"].items(),
        *((f"integration/{k}", r) for k, r in summary.get("integration", {}).items()),
    ]
    for kind, r in desks:
        rows.append((kind, r["scheduled"], r["count"], r["failures"], f"{r['p50_ms']:.0f}",
                     f"{r['p95_ms']:.0f}", f"{r['p99_ms']:.0f}", f"{r['lag_p99_ms']:.0f} ms",
                     r["late"], r["dropped"]))  # fmt: skip
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(head))]
    lines = ["  ".join(str(c).rjust(w) if i else str(c).ljust(w)
                       for i, (c, w) in enumerate(zip(row, widths, strict=True)))
             for row in rows]  # fmt: skip
    for name, r in sorted(summary["rtsp"].items()):
        lines.append(f"rtsp {name}: {r['count']} (failed {r['failures']}), p50 {r['p50_ms']:.0f} "
                     f"ms, p99 {r['p99_ms']:.0f} ms")  # fmt: skip
    o = summary.get("outage") or {}
    if o.get("failing_minutes"):
        back = (f"back at minute {o['back_at']}" if o.get("back_at") is not None
                else "not back by the end")  # fmt: skip
        lines.append(f"actions failed in {o['failing_minutes']} minute(s) of the run, from "
                     f"minute {o['first']} to {o['last']}; {back}")  # fmt: skip
    for step, n in sorted(summary["unsupported"].items()):
        lines.append(f"not supported by the target: {step} ×{n}")
    for e in summary["errors"][:5]:
        lines.append(f"error ×{e['occurrences']}: {e['type']} {e['name']}: {e['error']}")
    return "\n".join(lines)
