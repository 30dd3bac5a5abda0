"""Costs in the reports: the bill table of a run, its report.json section, and the rows
`compare` and `sweep` add, all from a run's `Results.costs` (simulator.model.costs); nothing
when the scenario has no prices."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from simulator.model.costs import Bill, Costs, Line
from simulator.model.results import Results
from simulator.report.text import Table, count, num


def money(x: float) -> str:
    """An amount, to the unit, with thousands separators."""
    return num(x, 0)


def _quantity(line: Line) -> str:
    return count(line.quantity) if float(line.quantity).is_integer() else num(line.quantity, 1)


def _price(line: Line) -> str:
    """A unit price: to the cent when it has cents."""
    return num(line.price, 0 if float(line.price).is_integer() else 2)


def _item(line: Line) -> str:
    """The item with its unit, unless it counts servers."""
    return line.item if line.unit == "server" else f"{line.item} ({line.unit})"


def costs_table(c: Costs) -> Table:
    """Each priced item as configured and as the sizing needs it (each group's servers needed
    and their disks), then capital, yearly and the total over the horizon; flagged where what
    is needed is more than what is configured."""
    t = Table(
        f"Costs ({c.currency}; total = capital + {c.horizon_years:g} × per year; as needed: "
        "each group's servers the sizing needs)",
        [
            "item",
            "configured",
            "price",
            "capital",
            "per year",
            "needed",
            "capital",
            "per year",
        ],  # fmt: skip
    )
    for have, need in zip(c.configured.lines, c.needed.lines, strict=True):
        t.add(
            [_item(have), _quantity(have), _price(have), money(have.capital),
             money(have.yearly), _quantity(need), money(need.capital), money(need.yearly)],
            need.quantity > have.quantity,
        )  # fmt: skip
    a, b = c.configured, c.needed
    t.add(["total", "", "", money(a.capital), money(a.yearly), "", money(b.capital),
           money(b.yearly)])  # fmt: skip
    t.add([f"cost of ownership, {c.horizon_years:g} years", "", "", money(a.total), "", "",
           money(b.total), ""], b.total > a.total)  # fmt: skip
    return t


def _bill_dict(b: Bill) -> dict[str, Any]:
    return {
        "lines": [asdict(line) for line in b.lines],
        "capital": b.capital,
        "yearly": b.yearly,
        "total": b.total,
    }


def costs_dict(c: Costs) -> dict[str, Any]:
    """report.json's `costs` (not yet cleaned)."""
    return {
        "currency": c.currency,
        "horizon_years": c.horizon_years,
        "servers_needed": dict(c.servers_needed),
        "configured": _bill_dict(c.configured),
        "needed": _bill_dict(c.needed),
    }


def compare_rows(t: Table, base: Results, other: Results) -> None:
    """Capital, yearly and total cost of both runs and the difference, when both are priced
    (in the same currency); flagged where the other costs more."""
    a, b = base.costs, other.costs
    if a is None or b is None:
        return
    if a.currency != b.currency:
        t.add([f"costs: {a.currency} against {b.currency}, not compared", "-", "-", "-"])
        return
    years = "" if a.horizon_years == b.horizon_years else " (horizons differ)"
    rows = [
        ("capital", a.configured.capital, b.configured.capital),
        ("per year", a.configured.yearly, b.configured.yearly),
        (f"total, {b.horizon_years:g} years{years}", a.configured.total, b.configured.total),
        ("total as needed", a.needed.total, b.needed.total),
    ]
    for name, x, y in rows:
        t.add([f"{name} ({a.currency})", money(x), money(y), f"{y - x:+,.0f}"], y > x)


def sweep_cost(r: Results) -> tuple[str, dict[str, float]]:
    """A sweep row's cost cell (configured total, and as needed when it differs) and its CSV
    figures; empty without prices."""
    c = r.costs
    if c is None:
        return "", {}
    have, need = c.configured.total, c.needed.total
    cell = money(have) if need == have else f"{money(have)} ({money(need)})"
    figures = {
        "capital": c.configured.capital,
        "yearly": c.configured.yearly,
        "total": have,
        "total_as_needed": need,
    }
    return cell, figures
