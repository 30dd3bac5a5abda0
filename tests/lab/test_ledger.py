"""The ledger's `sent` table: what it keeps of each interval, and how much room that takes."""

from __future__ import annotations

from pathlib import Path

from simulator.lab.ledger import Ledger, Sent

INTERVAL_S = 10.2  # the lab's 10 s, plus the time a sample takes


def test_an_idle_stream_other_than_main_is_left_out_and_main_always_kept(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite")
    ledger.record(sent=[
        Sent("a", "main", 0.0, 10.0, 0, 0, 0),  # not connected: the verdict reads this
        Sent("a", "sub", 0.0, 10.0, 0, 0, 0),  # nothing happened: left out
        Sent("b", "main", 0.0, 10.0, 250, 5_000_000, 1),
        Sent("b", "sub", 0.0, 10.0, 0, 0, 1),  # a session, nothing sent yet
        Sent("c", "sub", 0.0, 10.0, 0, 0, 0, fault_drops=70),  # withheld by a fault
    ])  # fmt: skip
    rows = ledger.rows("SELECT camera, stream, frames, sessions FROM sent ORDER BY camera, stream")
    assert rows == [("a", "main", 0, 0), ("b", "main", 250, 1), ("b", "sub", 0, 1),
                    ("c", "sub", 0, 0)]  # fmt: skip
    ledger.record(sent=[Sent("b", "main", 0.0, 10.0, 251, 5_000_001, 1)])  # the same interval
    assert ledger.rows("SELECT frames FROM sent WHERE camera = 'b' AND stream = 'main'") == [(251,)]
    ledger.close()


def test_a_camera_day_takes_at_most_a_megabyte(tmp_path: Path) -> None:
    """Issue 9's bound, for cameras with an idle sub-stream as the lab sees Strasbourg's: 100
    cameras for an hour of 10 s intervals, scaled to a day."""
    path = tmp_path / "ledger.sqlite"
    ledger = Ledger(path)
    cameras, intervals = 100, 360
    t = 1_796_000_000.0
    for _ in range(intervals):
        sent = []
        for i in range(cameras):
            cam = f"centre-dome-{i:03d}"
            sent.append(Sent(cam, "main", t, t + INTERVAL_S, 255, 5_000_000 + i * 997, 1))
            sent.append(Sent(cam, "sub", t, t + INTERVAL_S, 0, 0, 0))
        ledger.record(sent=sent)
        t += INTERVAL_S
    ledger.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    ledger.close()
    camera_days = cameras * intervals * INTERVAL_S / 86400
    per_camera_day = path.stat().st_size / camera_days
    assert per_camera_day <= 1e6, f"{per_camera_day / 1e6:.2f} MB per camera-day"
