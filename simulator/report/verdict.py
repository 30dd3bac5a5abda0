"""verdict.json, verdict.html and the terminal summary of a lab run (reads a Verdict)."""

from __future__ import annotations

import base64
import json
from html import escape
from pathlib import Path

from simulator.lab.verdict import Verdict
from simulator.report.files import atomic_write_text
from simulator.report.html import CSS
from simulator.report.plots import figure, png


def verdict_text(v: Verdict) -> str:
    """The verdict as the terminal shows it: the harness first, then every check."""
    h = v.harness
    lines = []
    if h.get("fell_behind"):
        lines.append(
            f"! the generator fell behind: send lateness p99 {h['lateness_p99_s'] * 1e3:.0f} ms "
            f"> one frame interval ({h['frame_interval_s'] * 1e3:.0f} ms); frames it did not "
            "send are not counted against the target"
        )
    if h.get("missed_events"):
        lines.append(f"! {h['missed_events']} applied faults were not read into the ledger")
    length = v.window[1] - v.window[0]
    lines.append(f"verdict: {'PASS' if v.passed else 'FAIL'} over {length:.0f} s, "
                 f"{len(v.frames)} cameras, {len(v.outages)} outages injected")  # fmt: skip
    for o in v.outages:
        rec = "never" if o.recovered_after_s is None else f"{o.recovered_after_s:.1f} s after"
        if o.not_judged:
            rec += f" ({o.not_judged})"
        lines.append(f"  outage {o.kind} {o.camera} {o.length_s:.0f} s: noticed by "
                     f"{', '.join(o.noticed) or 'nothing'}; recorded again {rec}")  # fmt: skip
    for d in v.degradations:
        share = f"{d.recorded / d.sent:.0%}" if d.sent else "n/a"
        lines.append(f"  fault {d.kind} {d.camera} {d.end - d.start:.0f} s {d.params}: "
                     f"recorded {d.recorded:.0f} of {d.sent} frames sent ({share}); noticed by "
                     f"{', '.join(d.noticed) or 'nothing'}")  # fmt: skip
    for g in v.gaps:
        why = g.explained_by or ("the generator (sent nothing)" if g.harness else "UNEXPLAINED")
        lines.append(f"  gap {g.camera} {g.length_s:.1f} s: {why}"
                     + (f": {g.cause}" if g.cause else ""))  # fmt: skip
    for s in v.shortfalls:
        why = s.explained_by or "UNEXPLAINED"
        lines.append(f"  lost inside a recording {s.camera} {s.lost_s:.1f} s: a "
                     f"{s.end - s.start:.1f} s recording holds {s.frames} of {s.produced:.0f} "
                     f"frames produced: {why}")  # fmt: skip
    for c in v.checks:
        mark = " " if c.passed else "!"
        lines.append(f"{mark} {c.name}: {c.value} (limit {c.threshold}) {c.note}".rstrip())
    return "\n".join(lines)


KEY = (("#2e8b57", "recorded"), ("#c0392b", "outage injected"),
       ("#e67e22", "degraded (loss, drops…)"), ("black", "unexplained gap"),
       ("#9b59b6", "recorded far below the camera's rate"))  # fmt: skip


def timeline_png(v: Verdict) -> bytes:
    """One bar per camera over the run: recorded (green), injected outages (red), faults that
    only degrade the stream (orange), gaps nothing explains (black), recordings that hold far
    fewer frames than their span (purple, over the green)."""
    cams = [f.camera for f in v.frames]
    t0 = v.window[0]
    with figure(10.0, 1.2 + 0.45 * max(1, len(cams))) as (fig, ax):
        for i, cam in enumerate(cams):
            recs = v.recordings.get(cam, [])
            ax.broken_barh([(a - t0, b - a) for a, b, _ in recs], (i - 0.3, 0.6), color="#2e8b57")
            outs = [(o.start - t0, o.length_s) for o in v.outages if o.camera == cam]
            ax.broken_barh(outs, (i - 0.15, 0.3), color="#c0392b")
            worse = [(d.start - t0, d.end - d.start) for d in v.degradations if d.camera == cam]
            ax.broken_barh(worse, (i - 0.15, 0.3), color="#e67e22")
            gaps = [(g.start - t0, g.length_s) for g in v.gaps
                    if g.camera == cam and g.explained_by is None and not g.harness]  # fmt: skip
            ax.broken_barh(gaps, (i - 0.4, 0.8), color="black")
            thin = [(s.start - t0, s.end - s.start) for s in v.shortfalls if s.camera == cam]
            ax.broken_barh(thin, (i + 0.15, 0.15), color="#9b59b6")
        ax.set_yticks(range(len(cams)), cams)
        ax.set_xlim(0, v.window[1] - t0)
        ax.set_xlabel("seconds since the timeline started")
        from matplotlib.patches import Patch

        handles = [Patch(color=c, label=t) for c, t in KEY]
        fig.legend(handles=handles, loc="outside lower center", ncols=5, fontsize=8)
        return png(fig)


def frames_png(v: Verdict) -> bytes:
    """Frames produced, sent and recorded per camera, outside outages."""
    with figure(10.0, 3.5) as (fig, ax):
        x = range(len(v.frames))
        ax.bar([i - 0.27 for i in x], [f.outside_outages_produced for f in v.frames], 0.27,
               label="produced", color="#999999")  # fmt: skip
        ax.bar([i for i in x], [f.outside_outages_sent for f in v.frames], 0.27,
               label="sent", color="#4a78b5")  # fmt: skip
        ax.bar([i + 0.27 for i in x], [f.outside_outages_recorded for f in v.frames], 0.27,
               label="recorded", color="#2e8b57")  # fmt: skip
        ax.set_xticks(list(x), [f.camera for f in v.frames], rotation=30, ha="right")
        ax.set_ylabel("frames, outside outages")
        ax.legend()
        return png(fig)


def resources_png(v: Verdict) -> bytes | None:
    """CPU (% of one core) and resident memory of each process over the run: the harness's
    (camsim serve, camsim loadtest, camsim lab) and the target's when it runs on this host."""
    if not v.resources:
        return None
    t0 = v.window[0]
    with figure(10.0, 5.5) as (fig, ax):
        fig.delaxes(ax)
        axes = fig.subplots(2, 1, sharex=True)
        for proc, series in sorted(v.resources.items()):
            if series:
                ts = [(t - t0) / 60 for t, _, _ in series]
                style = "--" if proc.startswith("camsim") else "-"
                axes[0].plot(ts, [c for _, c, _ in series], style, label=proc, lw=1.2)
                axes[1].plot(ts, [m for _, _, m in series], style, label=proc, lw=1.2)
        axes[0].set_ylabel("CPU, % of a core")
        axes[1].set_ylabel("RSS, MB")
        axes[1].set_xlabel("minutes since the timeline started (dashed: the harness)")
        axes[0].legend(fontsize=7, ncols=3)
        return png(fig)


def api_png(v: Verdict) -> bytes | None:
    """p95 latency of each action kind over the run, bin by bin."""
    if not v.api_over_time:
        return None
    t0 = v.window[0]
    with figure(10.0, 3.5) as (fig, ax):
        for kind, series in sorted(v.api_over_time.items()):
            pts = [((t - t0) / 60, p) for t, _, p in series if p is not None]
            if pts:
                ax.plot(*zip(*pts, strict=True), ".-", label=kind, lw=1)
        ax.set_yscale("log")
        ax.set_ylabel("p95 latency, s")
        ax.set_xlabel("minutes since the timeline started")
        ax.legend(fontsize=7, ncols=3)
        return png(fig)


def write_verdict(v: Verdict, out: Path) -> list[Path]:
    """verdict.json and verdict.html in `out`."""
    data = v.to_dict()
    paths = [atomic_write_text(out / "verdict.json", json.dumps(data, indent=1, default=str))]
    figs = [
        ("Recording per camera", timeline_png(v)),
        ("Frames", frames_png(v)),
        ("Processes on this host", resources_png(v)),
        ("API latency", api_png(v)),
    ]
    figs = [(cap, png) for cap, png in figs if png is not None]
    imgs = "".join(
        f"<figure><img src='data:image/png;base64,{base64.b64encode(png).decode()}'>"
        f"<figcaption>{escape(cap)}</figcaption></figure>"
        for cap, png in figs
    )
    rows = "".join(
        f"<tr class='{'' if c.passed else 'flag'}'><td class='mark'>{'' if c.passed else '!'}"
        f"</td><td>{escape(c.name)}</td><td class='r'>{escape(str(c.value))}</td>"
        f"<td class='r'>{escape(str(c.threshold))}</td><td>{escape(c.note)}</td></tr>"
        for c in v.checks
    )
    html = (
        f"<!doctype html><meta charset='utf-8'><title>camsim lab verdict</title>"
        f"<style>{CSS}</style><h1>camsim lab: {'PASS' if v.passed else 'FAIL'}</h1>"
        f"<pre>{escape(verdict_text(v))}</pre>{imgs}<h2>Checks</h2><table><tr><th></th>"
        f"<th>check</th><th>value</th><th>limit</th><th>note</th></tr>{rows}</table>"
    )
    paths.append(atomic_write_text(out / "verdict.html", html))
    return paths
