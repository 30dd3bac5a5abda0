"""The read load, failover and disks in the summary and report.html of real runs."""

from __future__ import annotations

from simulator.model.sizing import simulate
from simulator.report.html import render_html
from simulator.report.summary import WIDTH, summary_text


def test_summary_shows_read_load_failover_and_disks(load):
    d = "recording.servers.0.disks"
    results = simulate(load("outages", "recording.failover.standby=1", f"{d}.mtbf_h=20",
                            f"{d}.size_tb=1"))  # fmt: skip
    text = summary_text(results)
    assert "Read load (the recording's own reads; no operators)" in text
    assert "Failover (N+1)" in text and "Disks (risk per disk failure)" in text
    assert results.resilience.servers[0].arrays_lost > 0
    row = next(line for line in text.splitlines() if line.lstrip("! ").startswith("rec-n   raid6"))
    assert row.startswith("!")  # an array lost is flagged
    assert "lost hours: disks" in text and "lost hours: degraded" in text
    assert max(len(line) for line in text.splitlines()) <= WIDTH
    assert 'id="disk-load"' in render_html(results)


def test_without_failover_or_disk_failures_no_such_tables(load):
    text = summary_text(simulate(load("cbr_city")))
    assert "Read load" in text
    assert "Failover" not in text and "Disks (" not in text and "degraded" not in text


def test_disks_over_their_iops_and_arrays_lost_are_findings(load):
    from simulator.report.checks import findings, flags

    slow = simulate(load("cbr_city", "recording.servers.0.disks.iops_per_disk=0.1"))
    assert ("disks", "rec-north", "disk_iops_p99>capability") in {
        (f.subject, f.name, f.check) for f in flags(slow)
    }
    assert any(w.startswith("server rec-north: disk IOPS p99") for w in findings(slow))
    d = "recording.servers.0.disks"
    lost = simulate(load("outages", f"{d}.mtbf_h=20", f"{d}.size_tb=1"))
    assert any("disk array(s) lost (raid6" in w for w in findings(lost))
    assert all(f.check != "arrays_lost>0" for f in flags(simulate(load("cbr_city"))))
