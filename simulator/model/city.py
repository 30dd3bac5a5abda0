"""The city: a scenario's cameras, districts, links, recorders and seed tree, built once.

Every layer takes a City: the sizing model, the timeline builder, the stream server and the
load tests. Nothing below it rebuilds the camera table or the recorders.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import cached_property

from simulator.model.cameras import CameraTable, camera_table
from simulator.model.links import NetworkLink, network_links
from simulator.model.recorders import Recorder, recorders
from simulator.model.seeds import SeedTree
from simulator.model.selection import select
from simulator.scenario.schema import Scenario
from simulator.timeline.event import LinkId
from simulator.timeline.jsonl import Names


@dataclass(frozen=True, eq=False)
class City:
    """One scenario, expanded: what the model, the timeline and the executors share."""

    scenario: Scenario
    table: CameraTable
    links: list[NetworkLink]  # district uplinks (and backups), then the core
    recorders: list[Recorder]
    seeds: SeedTree

    @classmethod
    def of(cls, scenario: Scenario) -> City:
        sys.audit("camsim.build", "City")  # a lab test counts the builds of a run
        return cls(
            scenario,
            camera_table(scenario),
            network_links(scenario),
            recorders(scenario),
            SeedTree(scenario.simulation.seed),
        )

    @property
    def districts(self) -> list[str]:
        return [d.name for d in self.scenario.network.districts]

    def district_of(self, camera: int) -> str:
        return self.districts[int(self.table.district[camera])]

    @cached_property
    def camera_index(self) -> dict[str, int]:
        return {cid: i for i, cid in enumerate(self.table.ids)}

    @cached_property
    def names(self) -> Names:
        """What this city's timeline may name."""
        links = {LinkId("access", c) for c in self.table.ids}
        links |= {link.id for link in self.links}
        return Names(
            frozenset(self.table.ids),
            frozenset(self.districts),
            frozenset(links),
            frozenset(r.name for r in self.recorders),
        )

    def select(self, cameras: str | None = None, shard: str | None = None) -> list[int]:
        """Indexes of some cameras: `cameras` is a count N or comma-separated ids; `shard` is
        `i/n` (1-based), every n-th camera from the i-th. Raises ValueError on bad input."""
        return select(self.table.ids, cameras, shard)
