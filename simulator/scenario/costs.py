"""The costs part of a scenario: what the hardware, the links, the energy and the operators
cost, so that a run can price what it sizes (simulator/model/costs.py does the arithmetic).

No price is a default truth: every figure is the user's; the bundled example
(scenarios/strasbourg-costs.yaml) documents its own in docs/defaults.md § Costs.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from simulator.limits import shown
from simulator.scenario.base import NonNegative, Strict

LINK_CLASSES = ("access", "uplink", "backup", "core")
"""The link classes a price may name: network.access (one per camera), each district's
uplink and backup, and the core (simulator/model/links.py's kinds)."""


class LinkPrices(Strict):
    """Rental of each link class, per Mbit/s of its capacity per year; none: not priced."""

    access: NonNegative | None = Field(
        None, description="Each camera's access link, per Mbit/s of capacity per year"
    )
    uplink: NonNegative | None = Field(
        None, description="Each district uplink, per Mbit/s of capacity per year"
    )
    backup: NonNegative | None = Field(
        None, description="Each district backup path, per Mbit/s of capacity per year"
    )
    core: NonNegative | None = Field(
        None, description="The core link, per Mbit/s of capacity per year"
    )


class Costs(Strict):
    """Prices, in one currency: servers and disks bought once, links rented, energy and
    operators paid by the year, over a horizon."""

    currency: Annotated[str, Field(min_length=1, max_length=8)] = Field(
        "EUR", description="The currency's label, shown beside every figure (no conversion)"
    )
    horizon_years: Annotated[float, Field(gt=0, le=50)] = Field(
        5.0, description="Years the total cost of ownership covers: capital + years × yearly"
    )
    servers: dict[str, NonNegative] = Field(
        description=(
            "Price of one recording server (without its disks), by server group name; every "
            "group is priced"
        )
    )
    disk_per_tb: NonNegative = Field(
        0.0, description="Price of disk per TB of raw capacity (disks × size_tb), bought once"
    )
    links: LinkPrices = Field(LinkPrices(), description="Link rental by class, per Mbit/s-year")
    operator_hour: NonNegative = Field(
        0.0, description="Cost of one operator on duty for an hour (with `operators`)"
    )
    server_watts: NonNegative = Field(
        0.0, description="Mean electrical power of one recording server with its disks, W"
    )
    energy_per_kwh: NonNegative = Field(0.0, description="Price of electricity, per kWh")


def check_costs(costs: Costs, groups: list[str]) -> None:
    """Every priced server group exists and every group is priced (one left out would be free,
    and a planner would buy it); ValueError naming the field otherwise."""
    twice = next((g for i, g in enumerate(groups) if g in groups[:i]), None)
    if twice is not None:
        raise ValueError(
            f"costs.servers: the server group name {shown(twice)} is given to two groups, so "
            "its price is ambiguous (name each recording.servers group once)"
        )
    for name in costs.servers:
        if name not in groups:
            raise ValueError(
                f"costs.servers: {shown(name)} is not a recording server group "
                f"(one of {', '.join(groups)})"
            )
    missing = [g for g in groups if g not in costs.servers]
    if missing:
        raise ValueError(
            f"costs.servers: no price for the server group {shown(missing[0])} "
            f"(price every group: {', '.join(groups)})"
        )
