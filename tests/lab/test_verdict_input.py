"""`camsim verdict` on ledgers it cannot use, and on ledgers that name hosts and files: the
ledger is data, not configuration (issue 16, "camsim verdict"). Exit codes: 0 pass, 1 an SLO
failed, 2 bad input, 3 could not judge."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from simulator.cli import main
from simulator.lab.ledger import SCHEMA, Ledger, LedgerError, Sent
from simulator.lab.verdict import Slos

ROOT = Path(__file__).parents[2]
SCENARIO = ROOT / "tests" / "data" / "lab.yaml"
MAPPING = ROOT / "benchmarks" / "data" / "stub-vms.yaml"
T0 = 1_796_000_000.0


class Recorder(BaseHTTPRequestHandler):
    """A VMS that records nothing and notes every request it gets."""

    def log_message(self, *args: object) -> None:
        pass

    def _answer(self) -> None:
        self.server.seen.append((self.command, self.path, self.headers.get("Authorization")))  # type: ignore[attr-defined]
        if self.command == "DELETE":
            self.send_response(204)
            self.end_headers()
            return
        body = {"events": [], "logs": [], "cameras": []}
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_DELETE = do_POST = _answer


@pytest.fixture
def vms() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    server.seen = []  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def url(server: ThreadingHTTPServer) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


def closed_port() -> str:
    s = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    port = s.server_address[1]
    s.server_close()
    return f"http://127.0.0.1:{port}"


def write_run(out: Path, host: str, **facts: object) -> Path:
    """A finished rest run's ledger: one camera, a minute sent, nothing else."""
    out.mkdir(parents=True, exist_ok=True)
    ledger = Ledger(out / "ledger.sqlite")
    base = dict(scenario=str(SCENARIO), overrides=[], seed=None, days=None, target="rest",
                host=host, user=None, cameras="1", speed=1.0, start_at=0.0, keep=False,
                slos=Slos().__dict__, attached={"mapping": str(MAPPING)}, started=T0,
                ended=T0 + 60)  # fmt: skip
    ledger.set(**{**base, **facts})
    ledger.camera("labcam-001", "7", "rtsp://127.0.0.1:9/labcam-001", 10.0, 320, 180, T0 - 5)
    for i in range(6):
        t = T0 + 10 * i
        ledger.record(sent=[Sent("labcam-001", "main", t, t + 10, 100, 40_000, 1, due=100)])
    ledger.close()
    return out / "ledger.sqlite"


def verdict(out: Path, *args: str):
    env = {"CAMSIM_TARGET_PASSWORD": "s3cret"}
    return CliRunner().invoke(main, ["verdict", str(out), *args], env=env)


def one_line(result, code: int, start: str, *fragments: str) -> str:
    assert result.exit_code == code, (result.exit_code, result.output[-600:], result.exception)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr[-1000:]
    assert lines[0].startswith(start), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


# --- ledgers that cannot be judged: exit 3, one line, the file untouched -----------------
def garbage(path: Path) -> None:
    path.write_bytes(os.urandom(3000) + b"not sqlite")


def zeros(path: Path) -> None:
    path.write_bytes(b"\0" * 65536)


def empty(path: Path) -> None:
    path.write_bytes(b"")


def truncated(path: Path) -> None:
    write_run(path.parent, "http://127.0.0.1:9")
    ledger = Ledger(path)
    for i in range(2000):  # enough pages that half of them go
        t = T0 + 100 + 10 * i
        ledger.record(sent=[Sent(f"cam-{i % 50:03d}", "main", t, t + 10, 100, 40_000, 1)])
    ledger.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    ledger.close()
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def sqlite_not_ours(path: Path) -> None:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE notes (x TEXT)")
    db.commit()
    db.close()


def older_ledger(path: Path) -> None:  # a `sent` table without the columns the verdict reads
    db = sqlite3.connect(path)
    db.executescript(SCHEMA)
    for column in ("due", "target_drops", "unsent_bytes"):
        db.execute(f"ALTER TABLE sent DROP COLUMN {column}")
    db.commit()
    db.close()


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (garbage, "not a camsim ledger"),
        (zeros, "not a camsim ledger"),
        (empty, "not a camsim ledger (no table run)"),
        (truncated, "not a camsim ledger"),
        (sqlite_not_ours, "not a camsim ledger (no table run)"),
        (older_ledger, "lacks column"),
    ],
    ids=lambda v: getattr(v, "__name__", None),
)
def test_an_unusable_ledger_is_could_not_judge_and_left_as_it_was(
    tmp_path: Path, make, fragment: str
) -> None:
    out = tmp_path / "run"
    out.mkdir()
    path = out / "ledger.sqlite"
    make(path)
    for side in ("-wal", "-shm"):
        Path(f"{path}{side}").unlink(missing_ok=True)
    before = (path.read_bytes(), path.stat().st_mtime_ns, sorted(os.listdir(out)))
    time.sleep(0.01)
    r = verdict(out, "--host", "http://127.0.0.1:9")
    one_line(r, 3, f"camsim: could not judge: {path}: ", fragment)
    assert "Traceback" not in r.output
    assert (path.read_bytes(), path.stat().st_mtime_ns, sorted(os.listdir(out))) == before


@pytest.mark.parametrize(
    ("sql", "fragment"),
    [
        ("UPDATE sent SET t0 = 'soon' WHERE t0 = (SELECT min(t0) FROM sent)", "sent: a row's t0"),
        ("UPDATE sent SET frames = 1e999", "sent: a row's frames"),
        ("UPDATE cameras SET camera = printf('%.*c', 100000, 'x')", "cameras: a row's camera"),
        ("UPDATE run SET value = printf('%.*c', 50000, '[') WHERE key = 'host'",
         "run facts: host: nested deeper than 32"),
        ("UPDATE run SET value = 'NaN' WHERE key = 'started'", "run facts: started: NaN"),
        ("UPDATE run SET value = '[1]' WHERE key = 'target'", "run facts: target"),
        ("""UPDATE run SET value = '{"mapping": [1]}' WHERE key = 'attached'""",
         "run facts: attached: mapping: expected a path"),
        ("DELETE FROM run WHERE key = 'started'", "did not get far enough to judge (no started)"),
        ("INSERT INTO faults VALUES (1, 'jitter', 'labcam-001', NULL, NULL, 1796000010, NULL, "
         "NULL, printf('%.*c', 50000, '['), 'timeline')", "faults: a row's params"),
    ],
    ids=["text time", "inf frames", "long camera", "deep fact", "NaN start", "list target",
         "list mapping", "no start", "deep params"],
)  # fmt: skip
def test_a_ledger_with_hostile_rows_is_could_not_judge(tmp_path: Path, sql: str, fragment: str):
    path = write_run(tmp_path / "run", "http://127.0.0.1:9")
    db = sqlite3.connect(path)
    db.execute(sql)
    db.commit()
    db.close()
    r = verdict(tmp_path / "run", "--host", "http://127.0.0.1:9")
    line = one_line(r, 3, f"camsim: could not judge: {path}: ", fragment)
    assert len(line) < 400


def test_ledger_read_is_read_only_and_checks_the_tables(tmp_path: Path) -> None:
    path = write_run(tmp_path / "run", "http://127.0.0.1:9")
    ledger = Ledger.read(path)
    try:
        assert ledger.facts()["target"] == "rest"
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            ledger.db.execute("DELETE FROM sent")
    finally:
        ledger.close()
    empty = tmp_path / "empty.sqlite"
    empty.write_bytes(b"")
    with pytest.raises(LedgerError, match="no table run"):
        Ledger.read(empty)
    assert empty.read_bytes() == b""
    with pytest.raises(LedgerError, match="cannot read"):
        Ledger.read(tmp_path / "missing.sqlite")


# --- the ledger names hosts and files: only the user's --host is asked ---------------------
def test_the_ledgers_host_is_not_contacted_without_the_users_host(
    tmp_path: Path, vms: ThreadingHTTPServer
) -> None:
    out = tmp_path / "run"
    write_run(out, url(vms))
    r = verdict(out)
    one_line(r, 2, "camsim: error: ", f"--host {url(vms)}")
    r = verdict(out, "--host", "http://127.0.0.1:9")
    one_line(r, 2, "camsim: error: ", "--host http://127.0.0.1:9", f"the ledger's {url(vms)}")
    assert vms.seen == []  # type: ignore[attr-defined]


def test_a_rest_run_is_judged_only_through_the_users_own_mapping(
    tmp_path: Path, vms: ThreadingHTTPServer
) -> None:
    """A mapping says where requests go and with which credentials: the ledger's is not
    read unless the user names the same file."""
    out = tmp_path / "run"
    write_run(out, url(vms))
    r = verdict(out, "--host", url(vms))
    one_line(r, 2, "camsim: error: ", "pass --mapping", "a ledger is not trusted")
    other = tmp_path / "other.yaml"
    other.write_text(MAPPING.read_text())
    r = verdict(out, "--host", url(vms), "--mapping", str(other))
    one_line(r, 2, "camsim: error: --mapping ", "not the ledger's")
    assert vms.seen == []  # type: ignore[attr-defined]


def test_with_the_users_host_the_target_is_asked_and_cleaned(
    tmp_path: Path, vms: ThreadingHTTPServer
) -> None:
    out = tmp_path / "run"
    write_run(out, url(vms))
    r = verdict(out, "--host", url(vms) + "/", "--mapping", str(MAPPING))
    assert r.exit_code == 1, (r.exit_code, r.output[-600:], r.exception)  # nothing recorded
    assert "FAIL" in r.stdout
    assert ("DELETE", "/cameras/7", None) in vms.seen  # type: ignore[attr-defined]
    assert (out / "verdict.json").is_file()


def test_a_target_that_does_not_answer_is_could_not_judge(tmp_path: Path) -> None:
    host = closed_port()
    out = tmp_path / "run"
    write_run(out, host)
    r = verdict(out, "--host", host, "--mapping", str(MAPPING))
    one_line(r, 3, "camsim: could not judge: ", f"the target at {host}")


def test_the_scenario_the_ledger_names_is_read_bounded(tmp_path: Path) -> None:
    out = tmp_path / "run"
    path = write_run(out, "http://127.0.0.1:9", scenario="/dev/zero")
    given = ("--host", "http://127.0.0.1:9", "--mapping", str(MAPPING))
    r = verdict(out, *given)
    one_line(r, 3, f"camsim: could not judge: {path}: ", "/dev/zero", "larger than 4 MiB")
    r = verdict(out, *given, "--scenario", "/dev/zero")
    one_line(r, 2, "camsim: error: /dev/zero: larger than 4 MiB")


def test_motion_files_are_read_in_the_run_directory_whatever_the_ledger_says(
    tmp_path: Path,
) -> None:
    out = tmp_path / "run"
    elsewhere = {"stream": "http://127.0.0.1:9", "dir": str(tmp_path / "elsewhere")}
    (tmp_path / "elsewhere" / "movies").mkdir(parents=True)
    write_run(out, "http://127.0.0.1:9", target="motion", attached=elsewhere)
    r = verdict(out)  # OUT/motion/movies does not exist: motion's files cannot be read
    one_line(r, 3, "camsim: could not judge: the target at ", str(out / "motion" / "movies"))
    (out / "motion" / "movies").mkdir(parents=True)
    assert verdict(out).exit_code == 1  # nothing recorded


# --- the exit codes, as README's "Exit codes" says them ------------------------------------
def test_exit_codes_are_documented_once_and_pinned(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n### Exit codes\n", 1)[1].split("\n#", 1)[0]
    for code, meaning in ((0, "pass"), (1, "SLO failed"), (2, "bad input"), (3, "could not judge")):
        assert f"| {code} | {meaning}" in section, (code, section)
    bad = tmp_path / "garbage"
    bad.mkdir()
    zeros(bad / "ledger.sqlite")
    assert verdict(bad).exit_code == 3
    assert verdict(tmp_path / "missing").exit_code == 2
    assert verdict(tmp_path).exit_code == 2  # a directory without a ledger
    scenario = tmp_path / "bad.yaml"
    scenario.write_text("name: [")
    assert CliRunner().invoke(main, ["validate", str(scenario)]).exit_code == 2
    assert CliRunner().invoke(main, ["validate", str(SCENARIO)]).exit_code == 0


# --- camsim lab: the target not answering after the run started is could not judge ---------
@pytest.mark.parametrize("started", [True, False])
def test_lab_says_could_not_judge_only_once_the_run_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, started: bool
) -> None:
    import simulator.lab.run as run
    from simulator.targets import TargetError

    def run_lab(city, opts, inputs, progress):  # noqa: ANN001, ANN202
        opts.out.mkdir(parents=True, exist_ok=True)
        ledger = Ledger(opts.out / "ledger.sqlite")
        ledger.set(**({"started": T0, "ended": T0 + 60} if started else {"host": opts.host}))
        ledger.close()
        raise TargetError("rest: events: GET http://127.0.0.1:9/x: connection refused")

    monkeypatch.setattr(run, "run_lab", run_lab)
    args = ["lab", str(SCENARIO), "--target", "rest", "--mapping", str(MAPPING), "--host",
            "http://127.0.0.1:9", "--out", str(tmp_path / "out"), "--duration", "10s"]  # fmt: skip
    r = CliRunner().invoke(main, args)
    if started:
        one_line(r, 3, "camsim: could not judge: ", "the target at http://127.0.0.1:9")
    else:
        one_line(r, 2, "camsim: error: --host http://127.0.0.1:9: ", "connection refused")


def test_lab_with_a_bad_mapping_is_bad_input(tmp_path: Path) -> None:
    mapping = tmp_path / "m.yaml"
    mapping.write_text("name: demo\ntimezone: Mars/Olympus\nactions:\n  health: {path: ok}\n")
    args = ["lab", str(SCENARIO), "--target", "rest", "--mapping", str(mapping), "--host",
            "http://127.0.0.1:9", "--out", str(tmp_path / "out"), "--duration", "10s"]  # fmt: skip
    one_line(CliRunner().invoke(main, args), 2, f"camsim: error: {mapping}: ", "Mars/Olympus")
