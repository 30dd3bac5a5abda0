"""The ledger: ground truth of a lab run in SQLite, written as the run goes.

Per camera stream and interval, the frames and bytes actually sent and to how many sessions
(a stream other than the main one only in the intervals where something happened on it);
every fault applied, with its wall-clock start and end; every action with its result; the
generator's own health. Each interval is one transaction, so a crash loses at most the
interval being written, and the file is a valid database at every moment (WAL journal).
Times are Unix seconds. Rows are stored in the order they come (intervals, then cameras)
and without a separate key index: about 0.5 MB per camera-day (benchmarks/bench_lab.py).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS run (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cameras (
    camera TEXT PRIMARY KEY, target_id TEXT, url TEXT, fps REAL, width INTEGER, height INTEGER,
    registered REAL);
CREATE TABLE IF NOT EXISTS sent (
    camera TEXT NOT NULL, stream TEXT NOT NULL, t0 REAL NOT NULL, t1 REAL NOT NULL,
    frames INTEGER NOT NULL, bytes INTEGER NOT NULL, sessions INTEGER NOT NULL,
    late_skips INTEGER NOT NULL, fault_drops INTEGER NOT NULL, due INTEGER NOT NULL,
    target_drops INTEGER NOT NULL, unsent_bytes INTEGER NOT NULL,
    PRIMARY KEY (t0, camera, stream)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS faults (
    seq INTEGER PRIMARY KEY, kind TEXT NOT NULL, camera TEXT, district TEXT, link TEXT,
    start REAL NOT NULL, end REAL, sim_t REAL, params TEXT NOT NULL, source TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS actions (
    id INTEGER PRIMARY KEY, kind TEXT NOT NULL, camera TEXT, due REAL, start REAL NOT NULL,
    latency_s REAL, ok INTEGER NOT NULL, error TEXT);
CREATE TABLE IF NOT EXISTS health (
    t REAL NOT NULL, process TEXT NOT NULL, cpu_s REAL, rss_mb REAL, lateness_p99_s REAL,
    frames_late INTEGER, PRIMARY KEY (t, process));
CREATE TABLE IF NOT EXISTS capture (
    t REAL NOT NULL, camera TEXT NOT NULL, fps REAL NOT NULL, PRIMARY KEY (camera, t));
"""


MAIN = "main"  # the stream a target records


@dataclass(frozen=True)
class Sent:
    """One interval of one stream as the generator sent it."""

    camera: str
    stream: str
    t0: float
    t1: float
    frames: int
    bytes: int
    sessions: int
    late_skips: int = 0  # frames the generator skipped because it fell behind (its own)
    fault_drops: int = 0  # frames withheld by injected faults
    due: int = 0  # frame slots that fell due while a session played
    target_drops: int = 0  # frames a session missed because the target stopped reading
    unsent_bytes: int = 0  # what its sessions had not taken at the interval's end


class Ledger:
    """A lab run's SQLite ledger (opened for writing or for reading a finished run)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def interval(self) -> Iterator[sqlite3.Connection]:
        """One interval's writes as one transaction."""
        self.db.execute("BEGIN")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # --- writing -------------------------------------------------------------------------
    def set(self, **values: Any) -> None:
        """Run facts (scenario, target, options, start and end times), as JSON."""
        with self.interval() as db:
            db.executemany(
                "INSERT OR REPLACE INTO run VALUES (?, ?)",
                [(k, json.dumps(v)) for k, v in values.items()],
            )

    def camera(self, camera: str, target_id: str, url: str, fps: float, width: int,
               height: int, registered: float) -> None:  # fmt: skip
        with self.interval() as db:
            db.execute(
                "INSERT OR REPLACE INTO cameras VALUES (?, ?, ?, ?, ?, ?, ?)",
                (camera, target_id, url, fps, width, height, registered),
            )

    def record(
        self,
        sent: Iterable[Sent] = (),
        faults: Iterable[tuple] = (),
        fault_ends: Iterable[tuple[float, int]] = (),
        actions: Iterable[tuple] = (),
        health: Iterable[tuple] = (),
        capture: Iterable[tuple[float, str, float]] = (),
    ) -> None:
        """One interval: what was sent, faults applied (seq, kind, camera, district, link,
        start, end, sim_t, params, source) and ended ((end, seq)), actions (kind, camera,
        due, start, latency_s, ok, error) and health rows (t, process, cpu_s, rss_mb,
        lateness_p99_s, frames_late), and the target's own capture rates (t, camera, fps).
        A stream's interval where nothing happened is left out, unless it is the main
        stream's, whose silence the verdict reads (the target not connected)."""
        with self.interval() as db:
            db.executemany(
                "INSERT OR REPLACE INTO sent VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(s.camera, s.stream, s.t0, s.t1, s.frames, s.bytes, s.sessions,
                  s.late_skips, s.fault_drops, s.due, s.target_drops, s.unsent_bytes)
                 for s in sent
                 if s.stream == MAIN or s.sessions or s.frames or s.late_skips or s.fault_drops],
            )  # fmt: skip
            db.executemany("INSERT OR IGNORE INTO faults VALUES (?,?,?,?,?,?,?,?,?,?)", faults)
            db.executemany("UPDATE faults SET end = ? WHERE seq = ?", fault_ends)
            db.executemany(
                "INSERT INTO actions (kind, camera, due, start, latency_s, ok, error) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                actions,
            )
            db.executemany("INSERT OR REPLACE INTO health VALUES (?, ?, ?, ?, ?, ?)", health)
            db.executemany("INSERT OR REPLACE INTO capture VALUES (?, ?, ?)", capture)

    # --- reading -------------------------------------------------------------------------
    def facts(self) -> dict[str, Any]:
        return {k: json.loads(v) for k, v in self.db.execute("SELECT key, value FROM run")}

    def rows(self, sql: str, *args: Any) -> list[tuple]:
        return self.db.execute(sql, args).fetchall()
