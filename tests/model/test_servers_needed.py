"""Servers needed and the camera assignment use one planning line, `recording.planning_load`,
for ingest, streams, write IOPS and disk write throughput.

tests/data/cbr_city.yaml: 3 × 4 Mbps in `north`, 2 × 2.5 Mbps in `south`, constant rates, so
the demand's p99 is its constant 17 Mbps and every count is exact arithmetic.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from simulator.model.city import City
from simulator.model.recorders import assign
from simulator.model.sizing import simulate

ONE_GROUP = "recording.servers=[{name: rec, count: 3, reliability: {mtbf_h: 1.0e+12, mttr_h: 1}}]"
# Each limit alone set so that two 4-Mbps cameras fit under 80 % of it and three do not,
# while three fit under 100 %: streams 3; ingest 12.5 Mbps; IOPS 0.8 (0.26 per camera);
# one raid0 disk writing 1.5625 MB/s = 12.5 Mbps.
LIMITS = {
    "streams": ["recording.servers.0.max_streams=3"],
    "ingest": ["recording.servers.0.ingest_limit_mbps=12.5"],
    "write_iops": ["recording.servers.0.disks={count: 1, raid: raid0, iops_per_disk: 0.8}"],
    "write_throughput": [
        "recording.servers.0.disks={count: 1, raid: raid0, write_mbyte_s_per_disk: 1.5625}"
    ],
}


@pytest.mark.parametrize("limit", sorted(LIMITS))
@pytest.mark.parametrize("plan", [0.8, 1.0])
def test_assignment_spreads_evenly_under_the_planning_line(load, limit, plan):
    """Whichever limit binds, the 5 cameras fill the 3 servers to about 5/3 of a camera
    each: north's 4-Mbps cameras one a server, south's two on the two first by name."""
    s = load("cbr_city", ONE_GROUP, *LIMITS[limit], f"recording.planning_load={plan}")
    city = City.of(s)
    mean = city.table.main_mbps.astype(float)
    server_of = assign(s, city.table, city.recorders, mean)
    north = server_of[np.asarray(city.table.district) == 0]
    assert sorted(north.tolist()) == [0, 1, 2]
    assert np.bincount(server_of).tolist() == [2, 2, 1]


@pytest.mark.parametrize("plan", [0.5, 0.8, 1.0])
def test_servers_needed_compare_the_demand_with_the_planning_line(load, plan):
    s = load(
        "cbr_city",
        ONE_GROUP,
        "recording.servers.0.ingest_limit_mbps=10",
        "recording.servers.0.max_streams=2",
        f"recording.planning_load={plan}",
    )
    z = simulate(s).sizing
    assert z.planning_load == plan
    assert z.by_constraint["ingest"] == math.ceil(17 / (plan * 10) - 1e-9)
    assert z.by_constraint["streams"] == math.ceil(5 / (plan * 2) - 1e-9)


BIG = "{name: big, ingest_limit_mbps: 1000, max_streams: 100, reliability: {mtbf_h: 1.0e+12}}"
SMALL = "{name: small, ingest_limit_mbps: 5, max_streams: 2, reliability: {mtbf_h: 1.0e+12}}"


def test_every_server_group_is_sized_whatever_their_order(load):
    """A big and a small server: the order they are listed in changes nothing. By name the
    big one takes north (3 × 4 Mbps) first; south's first camera (2.5 Mbps) fits under the
    small one's line (80 % of 5 Mbps, 1.6 streams), its second does not and goes to the big
    one. Big: 14.5 Mbps, 4 streams → 1 server; small: 2.5 Mbps, 1 stream → 1 server."""
    sizes = []
    for servers in (f"[{BIG}, {SMALL}]", f"[{SMALL}, {BIG}]"):
        z = simulate(load("cbr_city", f"recording.servers={servers}")).sizing
        groups = {g.name: g for g in z.groups}
        assert (groups["big"].cameras, groups["small"].cameras) == (4, 1)
        assert groups["big"].servers_needed == 1 and groups["small"].servers_needed == 1
        sizes.append((z.servers_needed, z.binding, z.by_constraint))
    assert sizes[0] == sizes[1]
    assert sizes[0][0] == 2


def test_a_group_for_its_districts_is_sized_for_them_alone(load):
    """rec-north and rec-south each take their own district: sized separately."""
    z = simulate(
        load(
            "cbr_city",
            "recording.servers.0.ingest_limit_mbps=5",  # north: 12 Mbps / (0.8 × 5) → 3
            "recording.servers.1.max_streams=1",  # south: 2 streams / (0.8 × 1) → 3
        )
    ).sizing
    groups = {g.name: g for g in z.groups}
    assert (groups["rec-north"].servers_needed, groups["rec-north"].binding) == (3, "ingest")
    assert (groups["rec-south"].servers_needed, groups["rec-south"].binding) == (3, "streams")
    assert z.servers_needed == 6


TWO_SERVERS = "recording.servers=[{name: rec, count: 2, reliability: {mtbf_h: 1.0e+12, mttr_h: 1}}]"


@pytest.mark.parametrize(
    ("limit", "plan", "want"),
    [
        # line 10 Mbps: the fifth camera (2.5 Mbps) would put rec-1 at 10.5, so rec-2 takes it
        (12.5, 0.8, [0, 1, 0, 1, 1]),
        (12.5, 1.0, [0, 1, 0, 1, 0]),  # line 12.5: plain turns
        # line 4.8: one 4-Mbps camera each fills both, the rest go in turn to any with room
        (6.0, 0.8, [0, 1, 0, 1, 0]),
    ],
)
def test_round_robin_deals_in_turn_below_the_planning_line(load, limit, plan, want):
    s = load(
        "cbr_city", TWO_SERVERS, "recording.assignment=round_robin",
        f"recording.servers.0.ingest_limit_mbps={limit}", f"recording.planning_load={plan}",
    )  # fmt: skip
    city = City.of(s)
    mean = city.table.main_mbps.astype(float)
    assert mean.tolist() == [4, 4, 4, 2.5, 2.5]
    assert assign(s, city.table, city.recorders, mean).tolist() == want
