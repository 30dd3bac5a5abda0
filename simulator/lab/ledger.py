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
import stat
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from simulator.limits import LEDGER_BYTES, LEDGER_VALUE_BYTES, clip, loads_json, size

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


class LedgerError(ValueError):
    """A ledger that cannot be judged: not SQLite, not camsim's, truncated, or past a bound
    (one line naming the file)."""


class Ledger:
    """A lab run's SQLite ledger: `Ledger(path)` to write a run, `Ledger.read(path)` to judge
    one (read-only and checked)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)

    @classmethod
    def read(cls, path: str | Path, check: bool = True) -> Ledger:
        """A finished (or killed) run's ledger, opened read-only: nothing is written to it,
        not even a schema (without a -wal file it is opened immutable, so no -wal or -shm
        file appears beside it either; with one, SQLite needs its -shm beside it to read the
        killed run's last intervals, and may create that). Checked before use: a regular
        file of at most LEDGER_BYTES, every table and column of SCHEMA there, every value of
        the type its column declares (numbers finite, text of at most LEDGER_VALUE_BYTES),
        the run facts and fault parameters bounded JSON (`check=False`: the lab's own ledger,
        just written, read back without the full scan). Raises LedgerError."""
        path = Path(path)
        try:
            st = path.stat()
        except OSError as exc:
            raise LedgerError(f"{path}: cannot read: {exc.strerror}") from None
        if not stat.S_ISREG(st.st_mode):
            raise LedgerError(f"{path}: not a regular file")
        if st.st_size > LEDGER_BYTES:
            raise LedgerError(f"{path}: larger than {size(LEDGER_BYTES)}, the limit for a ledger")
        wal = Path(f"{path}-wal").exists()  # a killed run's last intervals are in it
        uri = f"file:{quote(str(path.resolve()))}?mode=ro" + ("" if wal else "&immutable=1")
        ledger = cls.__new__(cls)
        ledger.path = path
        try:
            ledger.db = sqlite3.connect(uri, uri=True, isolation_level=None,
                                        check_same_thread=False)  # fmt: skip
        except sqlite3.Error as exc:
            raise LedgerError(f"{path}: cannot open: {_said(exc)}") from None
        ledger.db.text_factory = _text  # a damaged byte is shown as U+FFFD, not raised
        try:
            ledger.db.execute("PRAGMA query_only = ON")
            if check:
                ledger._check()
        except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:  # its schema's text too
            ledger.close()
            raise LedgerError(f"{path}: not a camsim ledger ({_said(exc)})") from None
        except LedgerError:
            ledger.close()
            raise
        return ledger

    def _check(self) -> None:
        """Every table and column of SCHEMA, each value of its declared type (a full scan:
        a truncated file fails here, not halfway through a verdict)."""
        mem = sqlite3.connect(":memory:")
        mem.executescript(SCHEMA)
        tables = [t for (t,) in mem.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            want = mem.execute(f"PRAGMA table_info({table})").fetchall()
            have = {r[1] for r in self.db.execute(f"PRAGMA table_info({table})")}
            if not have:
                raise LedgerError(f"{self.path}: not a camsim ledger (no table {table})")
            missing = [c[1] for c in want if c[1] not in have]
            if missing:
                raise LedgerError(f"{self.path}: table {table} lacks column(s) "
                                  f"{', '.join(missing)} (written by another camsim?)")  # fmt: skip
            kinds = {name: _kind(decl) for _, name, decl, _, _, _ in want}
            checks = {name: _typed(name, kinds[name], nn) for _, name, _, nn, _, _ in want}
            where = " OR ".join(f"NOT ({c})" for c in checks.values())
            if self.db.execute(f"SELECT 1 FROM {table} WHERE {where} LIMIT 1").fetchone():
                for name, check in checks.items():
                    if self.db.execute(f"SELECT 1 FROM {table} WHERE NOT ({check}) LIMIT 1"
                                       ).fetchone():  # fmt: skip
                        raise LedgerError(f"{self.path}: {table}: a row's {name} is not "
                                          f"{_WHAT[kinds[name]]}")  # fmt: skip
        mem.close()
        self.facts()
        for (params,) in self.db.execute("SELECT params FROM faults"):
            try:
                loads_json(params, LEDGER_VALUE_BYTES)
            except ValueError as exc:
                raise LedgerError(f"{self.path}: faults: a row's params: {exc}") from None

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
        """The run facts (bounded JSON values; LedgerError naming the key otherwise)."""
        out = {}
        for k, v in self.rows("SELECT key, value FROM run"):
            try:
                out[k] = loads_json(v, LEDGER_VALUE_BYTES)
            except (ValueError, TypeError) as exc:
                key = k if isinstance(k, str) and len(k) <= 60 else "a key"
                raise LedgerError(f"{self.path}: run facts: {key}: {exc}") from None
        return out

    def rows(self, sql: str, *args: Any) -> list[tuple]:
        try:
            return self.db.execute(sql, args).fetchall()
        except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:  # damaged since checked
            raise LedgerError(f"{self.path}: {_said(exc)}") from None


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace")


def _said(exc: BaseException) -> str:
    """SQLite's message on one line, cut (it may quote the file's own damaged schema)."""
    return clip(" ".join(str(exc).split()), 200)


_WHAT = {"REAL": "a finite number", "INTEGER": "an integer", "TEXT": "text of at most "
         f"{size(LEDGER_VALUE_BYTES)}"}  # fmt: skip


def _kind(decl: str) -> str:
    return decl.upper() if decl.upper() in _WHAT else "TEXT"


def _typed(name: str, kind: str, notnull: int) -> str:
    """An SQL condition: `name` holds what its column declares (NULL only where allowed)."""
    if kind == "REAL":
        ok = f"typeof({name}) IN ('real', 'integer') AND abs({name}) <= 1e18"
    elif kind == "INTEGER":
        ok = f"typeof({name}) = 'integer'"
    else:
        ok = f"typeof({name}) = 'text' AND length(CAST({name} AS BLOB)) <= {LEDGER_VALUE_BYTES}"
    return ok if notnull else f"{name} IS NULL OR ({ok})"
