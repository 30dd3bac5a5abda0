"""Costs: what a configuration costs to buy and to run, from its prices (`costs` in the
scenario) and, for the servers the sizing says are needed, a run's results.

Pure arithmetic, no I/O and no simulation: a planner can price thousands of candidate
configurations with `bill` alone. Capital is bought once (servers, standbys, disks); yearly
is paid every year (energy, link rental, operators); the total cost of ownership over the
horizon is capital + horizon × yearly, undiscounted, with nothing replaced or resold.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from simulator.model.links import network_links
from simulator.model.results import Results
from simulator.scenario.schema import Scenario

HOURS_PER_YEAR = 365 * 24
"""A year of 365 days, as the year-aware run simulates."""


@dataclass(frozen=True)
class Line:
    """One priced item: `quantity` units at `price` each, once (capital) or every year."""

    item: str
    quantity: float
    unit: str
    price: float
    capital: float
    yearly: float


@dataclass(frozen=True)
class Bill:
    """What one configuration costs, item by item."""

    lines: tuple[Line, ...]
    horizon_years: float

    @property
    def capital(self) -> float:
        return sum(line.capital for line in self.lines)

    @property
    def yearly(self) -> float:
        return sum(line.yearly for line in self.lines)

    @property
    def total(self) -> float:
        """Total cost of ownership: capital + horizon × yearly."""
        return self.capital + self.horizon_years * self.yearly


@dataclass(frozen=True)
class Costs:
    """The scenario's configuration priced, and the same with each group's servers as the
    sizing says are needed (a user sees what meeting the need costs)."""

    currency: str
    horizon_years: float
    configured: Bill
    needed: Bill
    servers_needed: dict[str, int]  # by group, what `needed` buys


def bill(scenario: Scenario, servers: Mapping[str, int]) -> Bill:
    """The scenario priced with `servers[group]` servers in each group (its own counts when
    a group is not in `servers`); the scenario must have a `costs` section."""
    c = scenario.costs
    if c is None:
        raise ValueError("the scenario has no costs section")
    lines: list[Line] = []
    machines = 0
    standby_price = 0.0
    for g in scenario.recording.servers:
        n = servers.get(g.name, g.count)
        machines += n
        price = c.servers[g.name]
        lines.append(Line(f"servers {g.name}", n, "server", price, n * price, 0.0))
        raw_tb = n * g.disks.count * g.disks.size_tb
        lines.append(Line(f"disks {g.name}", raw_tb, "TB", c.disk_per_tb,
                          raw_tb * c.disk_per_tb, 0.0))  # fmt: skip
        standby_price = max(standby_price, price + g.disks.count * g.disks.size_tb * c.disk_per_tb)
    standby = scenario.recording.failover.standby
    if standby:  # a standby stands for any server: the priciest group's, with its disks
        machines += standby
        lines.append(Line("standby servers", standby, "server", standby_price,
                          standby * standby_price, 0.0))  # fmt: skip
    kwh = machines * c.server_watts / 1000 * HOURS_PER_YEAR
    lines.append(Line("energy", kwh, "kWh/year", c.energy_per_kwh, 0.0, kwh * c.energy_per_kwh))
    for kind in ("access", "uplink", "backup", "core"):
        price = getattr(c.links, kind)
        if price is None:
            continue
        if kind == "access":
            mbps = scenario.network.access.capacity_mbps * scenario.camera_count
        else:
            mbps = sum(lk.spec.capacity_mbps for lk in network_links(scenario) if lk.kind == kind)
        lines.append(Line(f"links {kind}", mbps, "Mbps", price, 0.0, mbps * price))
    if scenario.operators is not None:
        hours = sum(scenario.operators.on_duty) * 365
        lines.append(Line("operators", hours, "hours/year", c.operator_hour, 0.0,
                          hours * c.operator_hour))  # fmt: skip
    return Bill(tuple(lines), c.horizon_years)


def costs_of(scenario: Scenario, results: Results) -> Costs | None:
    """The scenario's costs, configured and as needed by `results`' sizing; None without a
    `costs` section."""
    if scenario.costs is None:
        return None
    needed = {g.name: g.servers_needed for g in results.sizing.groups}
    return Costs(
        scenario.costs.currency,
        scenario.costs.horizon_years,
        bill(scenario, {}),
        bill(scenario, needed),
        needed,
    )
