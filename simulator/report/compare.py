"""Two runs side by side: what a change to the city (more cameras, a codec) costs."""

from __future__ import annotations

import math

import numpy as np

from simulator.model.replications import (
    KEY_FIGURES,
    ConfidenceInterval,
    Replications,
    differences,
)
from simulator.model.results import Results
from simulator.report.checks import short_of_servers, short_of_storage
from simulator.report.costs import compare_rows
from simulator.report.key_figures import figure_digits, figure_text, mean_pm
from simulator.report.summary import render_table
from simulator.report.tables import Table, link_label, num, pct


def _change(a: float, b: float, digits: int) -> str:
    """b - a with its sign, or "-" when either is not finite."""
    return f"{b - a:+,.{digits}f}" if math.isfinite(a) and math.isfinite(b) else "-"


def compare_table(base: Results, other: Results) -> Table:
    """Key sizing figures of two runs and their difference."""
    t = Table(
        f"Comparison: {base.scenario}  →  {other.scenario}",
        ["figure", "base", "other", "change"],
    )

    def row(name: str, a: float, b: float, digits: int = 1, flag: bool = False) -> None:
        t.add([name, num(a, digits), num(b, digits), f"{b - a:+,.{digits}f}"], flag)

    row("cameras", base.cameras, other.cameras, 0)
    row("storage needed (TB)", base.sizing.storage_needed_tb, other.sizing.storage_needed_tb)
    row(
        "storage usable (TB)",
        base.sizing.storage_usable_tb,
        other.sizing.storage_usable_tb,
        flag=short_of_storage(other.sizing),
    )
    row("daily write (TB)", base.sizing.daily_write_tb, other.sizing.daily_write_tb, 2)
    row(
        "recording servers needed",
        base.sizing.servers_needed,
        other.sizing.servers_needed,
        0,
        flag=short_of_servers(other.sizing),
    )
    row("recording servers configured", base.sizing.servers_configured,
        other.sizing.servers_configured, 0)  # fmt: skip
    a, b = base.recording.availability, other.recording.availability
    t.add(["recording availability %", pct(a, 3), pct(b, 3), f"{(b - a) * 100:+.3f}"], b < a)
    by_name = {lk.name: lk for lk in base.links}
    for lk in other.links:
        old = by_name.get(lk.name)
        if old is None:
            continue
        t.add(
            [
                f"{link_label(lk)} p99 util %",
                pct(old.p99_util),
                pct(lk.p99_util),
                f"{(lk.p99_util - old.p99_util) * 100:+.1f}",
            ],
            lk.p99_util > 0.8 or lk.loss_fraction > 0,
        )
    if base.watch is not None and other.watch is not None:
        wa, wb = base.watch, other.watch
        a, b = wa.detected_share, wb.detected_share
        t.add(["incidents detected %", pct(a), pct(b), _change(a * 100, b * 100, 1)], b < a)
        a, b = wa.detected_per_year, wb.detected_per_year
        t.add(["incidents detected per year", num(a, 0), num(b, 0), _change(a, b, 0)])
        a, b = wa.delay_percentiles()[0], wb.delay_percentiles()[0]
        t.add(["median time to detection (s)", num(a, 0), num(b, 0), _change(a, b, 0)])
    compare_rows(t, base, other)
    return t


SAME = 1e-9  # relative: changes this close are the same change


def verdict(base: list[float], other: list[float], d: ConfidenceInterval) -> str:
    """What the paired test says of other − base: "identical" (every pair equal), "constant"
    (the same non-zero change in every pair: no spread, so nothing a t test can call
    significant), else "yes" when the interval excludes 0 and "no" when it does not."""
    if d.n < 2:
        return "no"
    changes = np.subtract(other, base)
    if not changes.any():
        return "identical"
    scale = float(np.max(np.abs([*base, *other])))
    if np.ptp(changes) <= SAME * scale:  # the same change but for the last bits of a float
        return "constant"
    return "yes" if not d.covers(0.0) else "no"


def compare_replications_table(
    base: Replications, other: Replications, names: tuple[str, str]
) -> Table:
    """Each key figure's mean ± half-width on both sides and their paired difference; a
    difference whose interval excludes 0 is significant (flagged), one without spread never
    is (`verdict`)."""
    diff = differences(base, other)
    level = next(iter(diff.values())).level if diff else 0.95
    t = Table(
        f"Comparison: {names[0]}  →  {names[1]}, {len(base.seeds)} paired replications "
        f"(mean ± {level:.0%} half-width)",
        ["figure", "base", "other", "change", "significant"],
    )
    for name, d in diff.items():
        label = KEY_FIGURES[name][0]
        a, b = base.figures[name], other.figures[name]
        va, vb = base.values[name], other.values[name]
        digits = figure_digits(label, va + vb)
        said = verdict(va, vb, d)
        if said == "constant":  # its size, however small: 0.015 TB is not "+0.0"
            change = _constant(label, d.mean, max(digits, figure_digits(label, [d.mean])))
        else:
            change = ("+" if d.mean >= 0 else "") + mean_pm(label, d, digits)
        cells = [label, mean_pm(label, a, digits), mean_pm(label, b, digits), change]
        t.add([*cells, said], said == "yes")
    return t


def _constant(label: str, change: float, digits: int) -> str:
    """A change that is the same in every pair, with its sign."""
    return ("+" if change >= 0 else "") + figure_text(label, change, digits) + " (every pair)"


def compare_text(base: Results, other: Results) -> str:
    """The comparison as text for the terminal (over the replications when both have them)."""
    if base.replications is not None and other.replications is not None:
        table = compare_replications_table(
            base.replications, other.replications, (base.scenario, other.scenario)
        )
        lines = render_table(table)
        costs = Table("Costs (the scenarios' prices; as needed: replication 1's sizing)",
                      ["figure", "base", "other", "change"])  # fmt: skip
        compare_rows(costs, base, other)
        if costs.rows:
            lines += ["", *render_table(costs)]
        return "\n".join(lines) + "\n"
    return "\n".join(render_table(compare_table(base, other))) + "\n"
