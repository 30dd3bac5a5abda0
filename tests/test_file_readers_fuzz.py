"""Fuzz targets for the four readers of users' files (issue 16): arbitrary bytes and arbitrary
structures in, a value or the reader's one error type out, never another exception. Each runs
a few hundred examples; the bounds themselves are pinned in the readers' own hostile tests."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from strategies import FUZZ, json_values, scalars

from simulator.lab.ledger import Ledger, LedgerError, Sent
from simulator.lab.run import RunFacts, run_facts
from simulator.scenario import Scenario, ScenarioError, load_scenario
from simulator.targets.mapping import Mapping, MappingError, load_mapping
from simulator.timeline import Event, TimelineError, read_jsonl

DATA = Path(__file__).parent / "data"

# YAML's punctuation and a few words the schemas know, so that examples get past the parser
YAML_TEXT = st.lists(
    st.sampled_from(list("[]{}&*:-,'\"!|>#%@ \n\t.+eE0129") + ["name", "x", "~", ".inf", "<<"]),
    max_size=120,
).map("".join)


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _mutated(text: str, key_path: list[str], value: object) -> str:
    """A YAML document with one value replaced (or added) at a path of keys."""
    data = yaml.safe_load(text)
    node = data
    for key in key_path[:-1]:
        node = node.setdefault(key, {}) if isinstance(node, dict) else node
    if isinstance(node, dict):
        node[key_path[-1]] = value
    return yaml.safe_dump(data, allow_unicode=True)


# --- scenario ------------------------------------------------------------------------------
def _scenario(path: Path) -> None:
    try:
        assert isinstance(load_scenario(path), Scenario)
    except ScenarioError as exc:
        assert "\n" not in str(exc) and len(str(exc)) < 1000


@FUZZ
@given(st.binary(max_size=500) | YAML_TEXT.map(str.encode))
def test_scenario_reader_bytes(tmp_path: Path, data: bytes) -> None:
    _scenario(_write(tmp_path / "s.yaml", data))


SCENARIO_TEXT = (DATA / "cbr_city.yaml").read_text()
SCENARIO_KEYS = st.lists(
    st.sampled_from(["name", "country", "simulation", "start", "days", "seed", "cameras",
                     "network", "recording", "location", "latitude", "faults", "x"]),
    min_size=1, max_size=3,
)  # fmt: skip


@FUZZ
@given(SCENARIO_KEYS, json_values)
def test_scenario_reader_structures(tmp_path: Path, keys: list[str], value: object) -> None:
    _scenario(_write(tmp_path / "s.yaml", _mutated(SCENARIO_TEXT, keys, value).encode()))


# --- timeline ------------------------------------------------------------------------------
def _timeline(path: Path) -> None:
    try:
        assert all(isinstance(e, Event) for e in read_jsonl(path))
    except TimelineError as exc:
        assert "\n" not in str(exc) and len(str(exc)) < 1000


@FUZZ
@given(st.binary(max_size=500))
def test_timeline_reader_bytes(tmp_path: Path, data: bytes) -> None:
    _timeline(_write(tmp_path / "t.jsonl", data))


EVENT = st.fixed_dictionaries(
    {"t": scalars, "kind": st.sampled_from(["night", "camera_down", "link_down", "jitter"])
     | scalars},
    optional={**dict.fromkeys(["camera", "link", "district", "server"], json_values),
              "params": json_values | st.dictionaries(st.sampled_from(["ms", "duration_s", "x"]),
                                                      scalars)},
)  # fmt: skip


@FUZZ
@given(st.lists(EVENT | json_values, max_size=5))
def test_timeline_reader_structures(tmp_path: Path, events: list[object]) -> None:
    text = "".join(json.dumps(e) + "\n" for e in events)  # NaN and Infinity included
    _timeline(_write(tmp_path / "t.jsonl", text.encode()))


# --- mapping -------------------------------------------------------------------------------
def _mapping(path: Path) -> None:
    try:
        assert isinstance(load_mapping(path), Mapping)
    except MappingError as exc:
        assert "\n" not in str(exc) and len(str(exc)) < 1000


@FUZZ
@given(st.binary(max_size=500) | YAML_TEXT.map(str.encode))
def test_mapping_reader_bytes(tmp_path: Path, data: bytes) -> None:
    _mapping(_write(tmp_path / "m.yaml", data))


MAPPING_TEXT = (Path(__file__).parents[1] / "benchmarks" / "data" / "stub-vms.yaml").read_text()
MAPPING_KEYS = st.lists(
    st.sampled_from(["name", "timezone", "time_format", "servers", "auth", "login", "actions",
                     "health", "path", "json", "query", "server", "fields", "x"]),
    min_size=1, max_size=3,
)  # fmt: skip
TEMPLATE = st.lists(st.sampled_from(list("{}!:>x") + ["{token}", "{host}", "{target_id}"]),
                    max_size=12).map("".join)  # fmt: skip


@FUZZ
@given(MAPPING_KEYS, json_values | TEMPLATE)
def test_mapping_reader_structures(tmp_path: Path, keys: list[str], value: object) -> None:
    _mapping(_write(tmp_path / "m.yaml", _mutated(MAPPING_TEXT, keys, value).encode()))


# --- ledger --------------------------------------------------------------------------------
def _ledger(path: Path) -> None:
    try:
        ledger = Ledger.read(path)
    except LedgerError as exc:
        assert "\n" not in str(exc) and len(str(exc)) < 1000
        return
    try:
        assert isinstance(run_facts(ledger), RunFacts)
        ledger.rows("SELECT camera, t0, t1, frames FROM sent WHERE stream = 'main'")
    except LedgerError as exc:
        assert "\n" not in str(exc) and len(str(exc)) < 1000
    finally:
        ledger.close()


@pytest.fixture(scope="module")
def good_ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ledger") / "ledger.sqlite"
    ledger = Ledger(path)
    ledger.set(scenario="s.yaml", target="rest", host="http://127.0.0.1:9", started=1.0,
               ended=61.0, slos={"recovery_s": 30.0})  # fmt: skip
    ledger.camera("c1", "7", "rtsp://x/c1", 10.0, 320, 180, 0.5)
    for i in range(30):
        ledger.record(sent=[Sent("c1", "main", 1.0 + 2 * i, 3.0 + 2 * i, 20, 800, 1, due=20)],
                      faults=[(i, "jitter", "c1", None, None, 1.0 + i, None, None, "{}", "t")],
                      actions=[("live_view", "c1", 1.0, 1.0 + i, 0.1, 1, None)])  # fmt: skip
    ledger.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    ledger.close()
    return path


@FUZZ
@given(st.binary(max_size=600))
def test_ledger_reader_bytes(tmp_path: Path, data: bytes) -> None:
    _ledger(_write(tmp_path / "ledger.sqlite", b"SQLite format 3\0" + data if data[:1] == b"S"
                   else data))  # fmt: skip


@FUZZ
@given(data=st.data())
def test_ledger_reader_damaged_files(tmp_path: Path, good_ledger: Path, data) -> None:  # noqa: ANN001
    raw = bytearray(good_ledger.read_bytes())
    flips = data.draw(st.lists(st.tuples(st.integers(0, len(raw) - 1), st.integers(0, 255)),
                               min_size=1, max_size=8))  # fmt: skip
    cut = data.draw(st.none() | st.integers(0, len(raw)))
    for at, byte in flips:
        raw[at] = byte
    _ledger(_write(tmp_path / "ledger.sqlite", bytes(raw[:cut])))


@FUZZ
@given(
    table_column=st.sampled_from([("run", "value"), ("run", "key"), ("sent", "t0"),
                                  ("sent", "frames"), ("sent", "camera"), ("cameras", "fps"),
                                  ("faults", "params"), ("actions", "error")]),
    value=scalars | st.binary(max_size=20) | json_values.map(json.dumps),
)  # fmt: skip
def test_ledger_reader_hostile_values(
    tmp_path: Path, good_ledger: Path, table_column: tuple[str, str], value: object
) -> None:
    path = _write(tmp_path / "ledger.sqlite", good_ledger.read_bytes())
    table, column = table_column
    db = sqlite3.connect(path)
    try:
        db.execute(f"UPDATE {table} SET {column} = ?", (value,))
        db.commit()
    except (sqlite3.IntegrityError, OverflowError):
        pass  # NOT NULL, a key repeated, an integer SQLite cannot store: not written
    finally:
        db.close()
    _ledger(path)
