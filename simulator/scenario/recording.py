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

    count: Annotated[int, Field(ge=1, le=1000)] = Field(12, description="Disks in the array")
    size_tb: Positive = Field(16.0, description="Size of one disk, TB")
    raid: Literal["raid0", "raid1", "raid5", "raid6", "raid10"] = Field(
        "raid6", description="RAID level of the array"
    )
    write_mbyte_s_per_disk: Positive = Field(
        180.0, description="Sequential write throughput of one disk, MB/s"
    )
    iops_per_disk: Positive = Field(150.0, description="I/O operations per second of one disk")
    mtbf_h: Positive | None = Field(
        None, description="Mean time between failures of one disk, hours; none: disks do not fail"
    )
    rebuild_mbyte_s: Positive = Field(
        100.0, description="RAID rebuild rate onto a replaced disk, MB/s"
    )
    degraded_write_factor: Annotated[float, Field(gt=0, le=1)] = Field(
        0.5, description="Share of write IOPS and throughput kept while rebuilding, 0..1"
    )

    @model_validator(mode="after")
    def _enough_disks(self) -> Disks:
        need = {"raid1": 2, "raid5": 3, "raid6": 4, "raid10": 4}.get(self.raid, 1)
        if self.count < need:
            raise ValueError(f"{self.raid} needs at least {need} disks, got {self.count}")
        return self


class ServerGroup(Strict):
    """Identical recording servers."""

    name: str = Field(description="The group's name")
    count: Annotated[int, Field(ge=1, le=10_000)] = Field(1, description="Servers in the group")
    ingest_limit_mbps: Positive = Field(
        600.0,
        description=(
            "Most a server ingests, Mbit/s (REFERENCE.md § Recording and storage: Genetec, ~600 "
            "Mbps)"
        ),
    )
    max_streams: Annotated[int, Field(ge=1)] = Field(
        175,
        description=(
            "Most streams a server records (REFERENCE.md § Recording and storage: Genetec, 175 "
            "1080p streams at most)"
        ),
    )
    disks: Disks = Field(Disks(), description="Each server's disk array")
    districts: list[str] | None = Field(
        None,
        description=(
            "The districts whose cameras these servers may record (not empty; every district "
            "with recording cameras needs a group that takes it); none: any"
        ),
    )
    reliability: Reliability = Field(
        Reliability(mtbf_h=26_280.0, mttr_h=4.0), description="Server failures and repairs"
    )


class Failover(Strict):
    """N+k: `standby` spare servers; one takes a failed server's cameras after `delay_s`.
    Standbys fail and are repaired too: `reliability`, by default the least available server
    group's."""

    standby: Annotated[int, Field(ge=0, le=1000)] = Field(
        0, description="Spare servers (N+k); 0: no failover"
    )
    delay_s: NonNegative = Field(
        60.0, description="Seconds before a standby takes a failed server's cameras"
    )
    reliability: Reliability | None = Field(
        None, description="Standby failures and repairs; none: the least available server group's"
    )


class RecordingPlan(Strict):
    """Recording servers, how cameras are spread over them, and how long video is kept."""

    retention_days: Positive = Field(
        30, description="Days recordings are kept (France: at most 30, REFERENCE.md § Law)"
    )
    assignment: Literal["by_district", "round_robin"] = Field(
        "by_district",
        description="How cameras are spread over the servers: by district, or round robin",
    )
    planning_load: Annotated[float, Field(gt=0, le=1)] = Field(
        0.8,
        description=(
            "Share of each server's ingest limit, streams, write IOPS and disk write throughput "
            "that cameras are assigned and servers sized up to, 0..1"
        ),
    )
    free_space_reserve_gb: NonNegative = Field(
        5.0,
        description=(
            "Disk space each server keeps free, GB (REFERENCE.md § Recording and storage: "
            "Milestone archives below 5 GB free)"
        ),
    )
    record_sub_streams: bool = Field(
        False, description="Record the sub-stream too (dual recording)"
    )
    failover: Failover = Field(Failover(), description="Standby servers (N+k)")
    servers: list[ServerGroup] = Field(min_length=1, description="The recording server groups")
