"""The recording part of a scenario: server groups and their disk arrays, failover, how
cameras are spread over the servers, and how long video is kept.

Every default names its source in docs/defaults.md (a line of REFERENCE.md) or is marked
there as an assumption.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from simulator.scenario.base import NonNegative, Positive, Reliability, Strict


class Disks(Strict):
    """A recording server's disk array."""

    count: Annotated[int, Field(ge=1, le=1000)] = 12
    size_tb: Positive = 16.0
    raid: Literal["raid0", "raid1", "raid5", "raid6", "raid10"] = "raid6"
    write_mbyte_s_per_disk: Positive = 180.0  # sequential MB/s of one disk
    iops_per_disk: Positive = 150.0
    mtbf_h: Positive | None = None  # disks do not fail unless given
    rebuild_mbyte_s: Positive = 100.0  # RAID rebuild rate onto a replaced disk
    degraded_write_factor: Annotated[float, Field(gt=0, le=1)] = 0.5  # kept while rebuilding

    @model_validator(mode="after")
    def _enough_disks(self) -> Disks:
        need = {"raid1": 2, "raid5": 3, "raid6": 4, "raid10": 4}.get(self.raid, 1)
        if self.count < need:
            raise ValueError(f"{self.raid} needs at least {need} disks, got {self.count}")
        return self


class ServerGroup(Strict):
    """Identical recording servers."""

    name: str
    count: Annotated[int, Field(ge=1, le=10_000)] = 1
    ingest_limit_mbps: Positive = 600.0
    max_streams: Annotated[int, Field(ge=1)] = 175
    disks: Disks = Disks()
    districts: list[str] | None = None
    reliability: Reliability = Reliability(mtbf_h=26_280.0, mttr_h=4.0)


class Failover(Strict):
    """N+k: `standby` spare servers; one takes a failed server's cameras after `delay_s`.
    Standbys fail and are repaired too: `reliability`, by default the least available server
    group's."""

    standby: Annotated[int, Field(ge=0, le=1000)] = 0  # 0: no failover
    delay_s: NonNegative = 60.0
    reliability: Reliability | None = None


class RecordingPlan(Strict):
    """Recording servers, how cameras are spread over them, and how long video is kept."""

    retention_days: Positive = 30
    assignment: Literal["by_district", "round_robin"] = "by_district"
    # the planning line: cameras are assigned, and servers sized, up to this share of each
    # server's ingest limit, streams, write IOPS and disk write throughput
    planning_load: Annotated[float, Field(gt=0, le=1)] = 0.8
    free_space_reserve_gb: NonNegative = 5.0
    record_sub_streams: bool = False  # dual recording: the sub-stream is recorded too
    failover: Failover = Failover()
    servers: list[ServerGroup] = Field(min_length=1)
