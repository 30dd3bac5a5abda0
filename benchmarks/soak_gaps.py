"""Why a viewer saw a gap in the soak (benchmarks/bench_soak.py): serve's own loop stalls (the
lines its loop probe logs, simulator/streams/stalls.py), the viewers' send times (the SEI in
every frame) and their process's own stalls, and the hostile requests just before.

A gap is the viewers' own when their process did not read (or waited for a CPU) over it;
else the server's when its loop stalled over it (nothing was written then, whenever the
frames were stamped), or when the frames' send times are as far apart as their arrivals (then
the late second it logged says why): `busy`, `starved` of a CPU by other processes, `gc`,
`thread`, `asleep`. Otherwise it is the delivery's (the kernel's, or serve's transport
queue).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

STALL = re.compile(
    r"loop stalled ([\d.]+) s at ([\d.]+): (\w+) \(loop thread CPU ([\d.]+) s, waiting for a "
    r"CPU ([\d.]+) s, GC ([\d.]+) s, other threads ([\d.]+) s(?:; the host's CPUs busy "
    r"([\d?]+) %(?: \(stolen ([\d?]+) %\))?)?\); samples: (.*)$"
)
LATE = re.compile(
    r"frames sent up to ([\d.]+) s late in the ([\d.]+) s to ([\d.]+): (\w+) \(loop thread CPU "
    r"([\d.]+) s, waiting for a CPU ([\d.]+) s, GC ([\d.]+) s, other threads ([\d.]+) s; the "
    r"host's CPUs busy ([\d?]+) % \(stolen ([\d?]+) %\)\)"
)
SLACK_S = 0.05  # a stall this close to a gap counts as over it


def serve_stalls(log: Path, since: float = 0.0) -> list[dict]:
    """serve's logged loop stalls (from its log) that began at or after `since` (Unix time);
    with `late`, also the seconds in which it sent frames late without a stall (`lag` is the
    worst lateness then)."""
    out = []
    try:
        text = log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return out
    for line in text.splitlines():
        m = STALL.search(line)
        if m and float(m.group(2)) >= since:
            lag, at, cause, cpu, wait, gc_s, others, host, stolen, where = m.groups()
            out.append({"lag": float(lag), "at": float(at), "cause": cause, "cpu": float(cpu),
                        "wait": float(wait), "gc": float(gc_s), "others": float(others),
                        "host": host or "?", "stolen": stolen or "?", "where": where,
                        "kind": "stall"})  # fmt: skip
        m = LATE.search(line)
        if m and float(m.group(3)) - float(m.group(2)) >= since:
            late, span, end, cause, cpu, wait, gc_s, others, host, stolen = m.groups()
            out.append({"lag": float(late), "span": float(span), "kind": "late",
                        "at": float(end) - float(span), "cause": cause, "cpu": float(cpu),
                        "wait": float(wait), "gc": float(gc_s), "others": float(others),
                        "host": host, "stolen": stolen, "where": ""})  # fmt: skip
    return out


def stalls_only(rows: list[dict]) -> list[dict]:
    return [r for r in rows if r.get("kind", "stall") == "stall"]


def gaps(viewers: dict, over_s: float) -> list[dict]:
    """Every viewer's worst gap of a minute over `over_s`: camera, start and end (Unix
    time), seconds, the send times' gap (-1 when unknown), timeline events around it."""
    t0 = viewers.get("t0", 0.0)
    out = []
    for v in viewers.get("viewers", []):
        for row in v["by_minute"].values():
            gap, at, events = row[:3]
            send_gap = row[3] if len(row) > 3 else -1.0
            if gap > over_s:
                out.append({"camera": v["camera"], "start": t0 + at, "end": t0 + at + gap,
                            "gap": gap, "send_gap": send_gap, "events": events})  # fmt: skip
    return sorted(out, key=lambda g: g["start"])


def cause(g: dict, stalls: list[dict], own: list[list[float]]) -> str:
    """Whose a gap is: `serve <cause>`, `serve late, no stall logged`, `viewers' process`,
    `delivery`, or `unknown` (no send time)."""
    over = [s for s in stalls if s["at"] < g["end"] + SLACK_S
            and s["at"] + s.get("span", s["lag"]) > g["start"] - SLACK_S]  # fmt: skip
    stall = [s for s in over if s.get("kind", "stall") == "stall"]
    if any(g["start"] - SLACK_S <= o[0] <= g["end"] + 0.25 for o in own):
        return "viewers' process"  # it did not read then (or waited for a CPU)
    if stall:  # its loop wrote nothing then, whenever the frames were stamped
        return "serve stalled: " + max(stall, key=lambda s: s["lag"])["cause"]
    if g["send_gap"] < 0:
        return "unknown (no send time)"
    if g["send_gap"] >= 0.8 * g["gap"]:
        if over:
            return "serve late: " + max(over, key=lambda s: s["lag"])["cause"]
        return "serve late, nothing logged"
    return "delivery"


def before(journal: list[dict], t: float, window_s: float = 2.0) -> Counter:
    """The hostile kinds sent in the `window_s` before `t` (and until it)."""
    return Counter(r["kind"] for r in journal if t - window_s <= r["t"] <= t)


def lift(journal: list[dict], stalls: list[dict], window_s: float = 2.0) -> list[tuple]:
    """Per hostile kind: how often it came in the `window_s` before a stall, against how often
    it would by chance (its rate over the run × the windows): (kind, seen, by chance)."""
    if not journal or not stalls:
        return []
    span = max(r["t"] for r in journal) - min(r["t"] for r in journal) or 1.0
    total = Counter(r["kind"] for r in journal)
    seen: Counter = Counter()
    for s in stalls:
        seen.update(set(before(journal, s["at"] + s["lag"], window_s + s["lag"])))
    chance = {k: min(len(stalls), n / span * window_s * len(stalls)) for k, n in total.items()}
    return sorted(((k, seen[k], chance[k]) for k in total), key=lambda x: x[2] - x[1])


def summary_lines(stalls: list[dict], gap_rows: list[dict], own: list[list[float]],
                  journal: list[dict]) -> list[str]:  # fmt: skip
    """The summary's lines: serve's stalls by cause, each viewer gap's owner, the lift of each
    hostile kind before serve's stalls, the worst stalls with their stack samples."""
    out = []
    late = [s for s in stalls if s.get("kind") == "late"]
    by_late = Counter(s["cause"] for s in late)
    busy = [int(s["host"]) for s in late if s["host"].isdigit()]
    stolen = [int(s["stolen"]) for s in late if s["stolen"].isdigit()]
    stalls = stalls_only(stalls)
    by: Counter = Counter(s["cause"] for s in stalls)
    secs: Counter = Counter()
    for s in stalls:
        secs[s["cause"]] += s["lag"]
    out.append(f"serve's loop stalls over 100 ms (logged, at most one a second): {len(stalls)}"
               + "".join(f"; {c} {n} ({secs[c]:.1f} s)" for c, n in by.most_common()))  # fmt: skip
    out.append(f"seconds in which serve sent a frame over 100 ms late: {len(late)}"
               + "".join(f"; {c} {n}" for c, n in by_late.most_common())
               + (f"; the host's CPUs busy then {min(busy)} - {max(busy)} % (stolen "
                  f"{min(stolen)} - {max(stolen)} %)" if busy and stolen else ""))  # fmt: skip
    stalls = stalls + late
    owners: Counter = Counter(cause(g, stalls, own) for g in gap_rows)
    out.append("viewers' gaps over the goal by owner: "
               + (", ".join(f"{k} {n}" for k, n in owners.most_common()) or "none"))  # fmt: skip
    if len(gap_rows) > 20:
        out.append(f"  (the first 20 of {len(gap_rows)})")
    for g in gap_rows[:20]:
        kinds = before(journal, g["start"] + g["gap"], 2.0 + g["gap"])
        what = ", ".join(f"{k} x{n}" for k, n in kinds.most_common(4)) or "none"
        out.append(f"  gap {1000 * g['gap']:.0f} ms on {g['camera']} at "
                   f"{g['start']:.1f} (sent {1000 * g['send_gap']:.0f} ms apart): "
                   f"{cause(g, stalls, own)}; hostile in the 2 s before: "
                   f"{what}")  # fmt: skip
    rows = lift(journal, stalls_only(stalls))
    if rows:
        out.append("hostile kinds in the 2 s before a serve stall, seen / by chance:")
        out += [f"  {k}: {n} / {c:.1f}" for k, n, c in rows[:8]]
    for s in sorted(stalls_only(stalls), key=lambda s: -s["lag"])[:5]:
        out.append(f"  stall {1000 * s['lag']:.0f} ms at {s['at']:.1f}: {s['cause']} "
                   f"(CPU {s['cpu']:.2f}, wait {s['wait']:.2f}, GC {s['gc']:.2f}, others "
                   f"{s['others']:.2f}, host busy {s['host']} %, stolen {s['stolen']} %); "
                   f"{s['where'][:300]}")  # fmt: skip
    return out
