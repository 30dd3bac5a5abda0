"""Findings: the failed checks as sentences, after the model's own warnings."""

from __future__ import annotations

from simulator.report.checks import findings, flags


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
        server.ingest_max_mbps = 0.5 * server.ingest_limit_mbps
        server.storage_needed_tb = 0.5 * server.usable_tb
        server.write_iops_p99 = 0.0
        server.cameras = 1
    results.sizing.servers_needed = results.sizing.servers_configured
    results.sizing.storage_needed_tb = 0.5 * results.sizing.storage_usable_tb
    assert findings(results) == results.warnings
