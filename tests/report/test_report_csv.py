"""CSV series: parse back, right shapes, values as in the Results, deterministic."""

from __future__ import annotations

import csv

import pytest

from simulator.report.csvreport import CSV_FILES, csv_texts, write_csv


def _read(path):
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


@pytest.fixture
def written(tmp_path, results):
    paths = write_csv(results, tmp_path)
    assert [p.name for p in paths] == list(CSV_FILES)
    return tmp_path


def test_links_csv(written, results):
    header, rows = _read(written / "links.csv")
    assert header[:3] == ["time_s", "access_mean_util", "access_max_util"]
    assert len(header) == 1 + 2 * len(results.series.link_names)
    assert len(rows) == 1440 and all(len(r) == len(header) for r in rows)
    assert rows[0][0] == "0" and rows[1][0] == "60" and rows[-1][0] == str(1439 * 60)
    col = header.index("centre_max_util")
    assert float(rows[700][col]) == pytest.approx(results.series.link_max_util[1, 700], rel=1e-5)


def test_servers_csv(written, results):
    header, rows = _read(written / "servers.csv")
    assert header == ["time_s", "rec-1_ingest_mbps", "rec-2_ingest_mbps"]
    assert len(rows) == 1440
    assert float(rows[123][2]) == pytest.approx(results.series.server_ingest_mbps[1, 123], rel=1e-5)


def test_storage_csv(written, results):
    header, rows = _read(written / "storage.csv")
    assert header == ["day", "rec-1_fill_tb", "rec-2_fill_tb"]
    assert len(rows) == 31
    assert rows[30][0] == "30"
    assert float(rows[30][1]) == pytest.approx(results.servers[0].storage_needed_tb, rel=1e-5)


def test_cameras_csv(written, results):
    header, rows = _read(written / "cameras.csv")
    assert header == ["camera", "district", "server", "mean_mbps"]
    assert [r[0] for r in rows] == results.series.camera_ids
    assert [r[2] for r in rows] == results.series.camera_servers
    assert float(rows[5][3]) == pytest.approx(results.series.camera_mean_mbps[5], rel=1e-5)


def test_deterministic_and_nan_empty(results, make_results):
    assert csv_texts(results) == csv_texts(make_results())
    results.series.link_mean_util[0, 0] = float("nan")
    assert csv_texts(results)["links.csv"].splitlines()[1].startswith("0,,")
