"""report.json: versioned, deterministic, documented, free of machine-specific data."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from pathlib import Path

import numpy as np
import pytest

from simulator.model.replications import summarize
from simulator.model.results import Watch, Year
from simulator.report.jsonreport import SCHEMA, dumps, round_sig, to_json_dict, write_json

SCHEMA_DOC = Path(__file__).resolve().parents[2] / "docs" / "report-schema.md"


def test_byte_identical_across_writes_and_rebuilds(tmp_path, results, make_results):
    a = write_json(results, tmp_path / "a.json")
    b = write_json(make_results(), tmp_path / "b.json")  # an equal Results built afresh
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes().endswith(b"}\n")


def test_different_runs_differ(results, make_results):
    assert dumps(results) != dumps(make_results(seed=8))


def test_schema_and_values(results):
    d = json.loads(dumps(results))
    assert d["schema"] == SCHEMA == "camsim.report/1"
    assert d["run"] == {"scenario": "Test town", "seed": 7, "cameras": 40, "days": 1.0}
    assert d["sizing"]["servers_needed"] == 3 and d["sizing"]["binding"] == "storage"
    assert d["sizing"]["storage_needed_tb"] == 221.21  # 221.2098765 to 6 significant digits
    assert d["links"][1]["mean_util"] == 0.687654
    assert d["links"][0]["count"] == 40 and d["links"][0]["kind"] == "access"
    assert d["servers"][1]["storage_needed_tb"] == 99.8765
    assert d["recording"]["availability"] == round_sig(951.25 / 960.0)
    assert d["recording"]["lost_hours"]["camera"] == 6.5
    assert d["window"]["frames"] == 2_160_000
    assert d["series"] == {
        "step_s": 60,
        "steps": 1440,
        "link_names": ["access", "centre", "centre-backup", "core"],
        "server_names": ["rec-1", "rec-2"],
        "storage_points": 31,
    }
    checks = {(f["name"], f["check"]) for f in d["checks"]["flags"]}
    assert ("centre", "p99_util>0.8") in checks and ("rec-2", "storage_needed>usable") in checks
    assert not any(name in ("core", "rec-1") for name, _ in checks)


def test_sorted_keys_and_no_timing_or_machine_data(results):
    text = dumps(results)
    assert text == json.dumps(json.loads(text), sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    lowered = text.lower()
    for word in ("elapsed", "wall", "duration_s", "timestamp", "hostname", "created", "runtime"):
        assert word not in lowered, word

    def strings(x):
        if isinstance(x, dict):
            for k, v in x.items():
                yield k
                yield from strings(v)
        elif isinstance(x, list):
            for v in x:
                yield from strings(v)
        elif isinstance(x, str):
            yield x

    for s in strings(json.loads(text)):
        assert not s.startswith(("/", "~")) and not re.match(r"^[A-Za-z]:\\", s), s


def test_numpy_and_non_finite_values(results):
    results.seed = np.int64(7)
    results.links[0].p99_delay_ms = float("nan")
    results.links[1].max_delay_ms = float("inf")
    results.links[2].mean_util = np.float32(-0.0)
    d = json.loads(dumps(results))  # allow_nan=False inside: would raise on NaN
    assert d["run"]["seed"] == 7
    assert d["links"][0]["p99_delay_ms"] is None and d["links"][1]["max_delay_ms"] is None
    assert '"mean_util": -0.0' not in dumps(results)


def test_round_sig():
    assert round_sig(123456789.0) == 123457000.0
    assert round_sig(0.000123456789) == 0.000123457
    assert round_sig(float("nan")) is None


def _doc_fields() -> tuple[set[str], set[str]]:
    """Field paths in the report.json table of the schema doc, and those typed as maps."""
    text = SCHEMA_DOC.read_text(encoding="utf-8")
    section = text.split("## report.json", 1)[1].split("\n## ", 1)[0]
    table = section.split("| field | type |", 1)[1].split("\n\n", 1)[0]  # the field table
    fields, maps = set(), set()
    for m in re.finditer(r"^\| `([^`]+)` \| ([^|]*)\|", table, re.MULTILINE):
        fields.add(m.group(1))
        if m.group(2).strip().startswith("map"):
            maps.add(m.group(1))
    return fields, maps


def _paths(value, prefix: str, maps: set[str]) -> set[str]:
    out = set()
    if isinstance(value, dict) and prefix not in maps:
        for k, v in value.items():
            p = f"{prefix}.{k}" if prefix else k
            out.add(p)
            out |= _paths(v, p, maps)
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict):
                out |= _paths(item, f"{prefix}[]", maps)
    return out


def _optional_fields(fields: set[str]) -> set[str]:
    """Fields documented as present only sometimes ("only when ..."/"only with ..."), and theirs."""
    text = SCHEMA_DOC.read_text(encoding="utf-8")
    roots = {
        m.group(1)
        for m in re.finditer(r"^\| `([^`]+)` \|.*\bonly (?:when|with)\b", text, re.MULTILINE)
    }
    return {f for f in fields if any(f == r or f.startswith((f"{r}.", f"{r}[")) for r in roots)}


def test_schema_doc_covers_every_field(results):
    fields, maps = _doc_fields()
    optional = _optional_fields(fields)
    assert "watch" in optional and "watch.by_hour[].detected" in optional
    assert "checks.max_monitors_each" in optional and "checks.flags" not in optional
    always = fields - optional
    d = to_json_dict(results)
    assert results.watch is None
    top_documented = {f for f in always if "." not in f and "[" not in f}
    assert top_documented == set(d), "top-level keys and docs/report-schema.md disagree"
    assert _paths(d, "", maps) == always, "field paths and docs/report-schema.md disagree"
    assert {"sizing.by_constraint", "recording.lost_hours"} <= maps


def test_schema_doc_covers_every_field_of_a_replicated_year_aware_run_with_operators(results):
    by_hour = np.zeros((24, 2), dtype=np.int64)
    by_hour[20] = (3, 1)
    watch = Watch(
        days=7.0, incidents=3, detected=1, unseen=1, away=0, unnoticed=1,
        delays_s=np.array([42.0]), by_hour=by_hour, busy_share=0.01, requests=3, detection_p=0.74,
        monitors_each=4, max_cameras_per_operator=20, hours_unwatched=0,
    )  # fmt: skip
    year = Year(
        start=dt.datetime(2026, 6, 19), days=365.0, coarse_resolution_s=60, resolution_s=1,
        retention_days=30.0, storage_window_start_h=4073, storage_window_tb=720.4, peak_day=191,
        peak_hour_tb=1.24, by_constraint_year={"storage": 5}, by_constraint_peak_day={"storage": 0},
        daily_write_year_tb=23.4, daily_write_peak_day_tb=24.1, daily_write_peak_day_coarse_tb=24.1,
        link_p99_util_year={"core": 0.3}, link_loss_year={"core": 0.0},
    )  # fmt: skip
    reps = summarize(results.seed, [results, results])
    fields, maps = _doc_fields()
    d = to_json_dict(dataclasses.replace(results, watch=watch, year=year, replications=reps))
    assert "watch" in d and d["year"]["storage_window"]["start"] == "2026-12-05T17:00:00"
    own_tests = ("reads", "resilience", "costs")
    documented = {f for f in fields if f.split(".")[0] not in own_tests}
    assert _paths(d, "", maps) == documented, "field paths and docs/report-schema.md disagree"


@pytest.mark.parametrize("section", ["reads", "resilience"])
def test_schema_doc_covers_the_read_load_and_resilience(load, section):
    """A real run's `reads` and `resilience` sections: every field documented, no more."""
    from simulator.model.sizing import simulate

    fields, maps = _doc_fields()
    scenario = load("cbr_city", "recording.failover.standby=1",
                    "recording.servers.0.disks.mtbf_h=1000000")  # fmt: skip
    d = to_json_dict(simulate(scenario))
    documented = {f for f in fields if f.split(".")[0] == section}
    assert _paths({section: d[section]}, "", maps) == documented
