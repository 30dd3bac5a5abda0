"""Findings: the failed checks as sentences, after the model's own warnings."""

from __future__ import annotations

import pytest

from simulator.model.sizing import simulate
from simulator.report.checks import Flag, findings, flags, server_checks


def test_every_flag_becomes_one_sentence(results) -> None:
    found = findings(results)
    assert found[: len(results.warnings)] == results.warnings
    assert len(found) == len(results.warnings) + len(flags(results))


def test_an_overloaded_link_and_a_full_server_are_named(results) -> None:
    link = results.links[1]
    link.p99_util, link.loss_fraction = 0.93, 0.0123
    server = results.servers[0]
    server.storage_needed_tb, server.usable_tb = 200.0, 160.0
    found = findings(results)
    assert f"link {link.name}: p99 utilisation 93% above the 80% planning line" in found
    assert f"link {link.name}: loses 1.230% of its traffic (per-second model)" in found
    assert f"server {server.name}: needs 200 TB, has 160 TB usable" in found


def test_nothing_over_a_limit_gives_only_model_warnings(results) -> None:
    for link in results.links:
        link.p99_util = link.max_util = 0.1
        link.loss_fraction = link.window_loss_fraction = 0.0
    for server in results.servers:
        server.ingest_max_mbps = server.ingest_p99_mbps = 0.5 * server.ingest_limit_mbps
        server.storage_needed_tb = 0.5 * server.usable_tb
        server.write_iops_p99 = 0.0
        server.cameras = 1
    results.sizing.servers_needed = results.sizing.servers_configured
    results.sizing.storage_needed_tb = 0.5 * results.sizing.storage_usable_tb
    assert findings(results) == results.warnings


ONE_SERVER = (
    "recording.servers=[{name: rec, count: 1, ingest_limit_mbps: 20, "
    "reliability: {mtbf_h: 1.0e+12, mttr_h: 1}}]"
)


@pytest.mark.parametrize(("limit", "want"), [(20.0, "ingest_p99>plan"), (16.0, "ingest_max>limit")])
def test_a_server_is_flagged_against_the_planning_line_as_servers_needed_counts(
    load, limit, want
) -> None:
    # tests/data/cbr_city.yaml: 17 Mbps CBR on one server. At a 20 Mbps limit it runs at 85 %,
    # under the limit but above the 80 % line: servers needed by ingest is ceil(17 / 16) = 2,
    # and the server is flagged for the line. At 16 Mbps it is over the limit itself (video
    # lost): the stronger flag replaces the planning one.
    r = simulate(load("cbr_city", ONE_SERVER, f"recording.servers.0.ingest_limit_mbps={limit}"))
    (server,) = r.servers
    assert server.ingest_p99_mbps == pytest.approx(17.0, rel=1e-6)
    assert r.sizing.by_constraint["ingest"] == 2
    assert server_checks(server, r.sizing.planning_load) == [want]
    assert Flag("server", "rec", want) in flags(r)


def test_the_planning_line_is_the_scenarios(load) -> None:
    r = simulate(load("cbr_city", ONE_SERVER, "recording.planning_load=0.9"))
    (server,) = r.servers
    assert server_checks(server, r.sizing.planning_load) == []  # 85 % under a 90 % line
    assert r.sizing.by_constraint["ingest"] == 1  # ceil(17 / 18)
    found = findings(simulate(load("cbr_city", ONE_SERVER)))
    assert (
        "server rec: 17 Mbps ingest p99, 85% of its 20 limit, above the 80% planning line (16)"
        in found
    )


def test_links_are_flagged_at_the_scenarios_planning_line(load) -> None:
    # cbr_city: 12 Mbps CBR on the north uplink (1.2 % of 1 Gbps), 5 Mbps on the south one
    # (0.5 %), 4 Mbps on a north camera's access link (4 % of 100 Mbps), 17 on the core
    def hot(*overrides: str) -> set[str]:
        r = simulate(load("cbr_city", *overrides))
        return {f.name for f in flags(r) if f.subject == "link" and f.check.startswith("p99_util>")}

    assert hot() == set()
    assert hot("network.planning_load=0.01") == {"access", "uplink:north"}
    r = simulate(load("cbr_city", "network.planning_load=0.01"))
    assert "link uplink:north: p99 utilisation 1% above the 1% planning line" in findings(r)
