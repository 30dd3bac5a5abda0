"""The operators' watch in every report output: present when the run has operators, and every
output exactly as before when it has none."""

from __future__ import annotations

import base64
import csv
import dataclasses
import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
import yaml

from simulator.model.results import Results, Watch
from simulator.report import write_report
from simulator.report.checks import findings, flags
from simulator.report.compare import compare_table, compare_text
from simulator.report.csvreport import CSV_FILES, WATCH_CSV, csv_texts
from simulator.report.html import render_html
from simulator.report.jsonreport import dumps, to_json_dict
from simulator.report.plots import incidents_by_hour_png
from simulator.report.summary import WIDTH, summary_text
from simulator.report.tables import all_tables
from simulator.report.watch_table import watch_table

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
DATA = Path(__file__).resolve().parents[1] / "data"
KEYS_WITHOUT_WATCH = {
    "schema", "run", "sizing", "links", "servers", "recording", "window", "series", "checks",
    "warnings",
}  # fmt: skip


def make_watch(**changes) -> Watch:
    """A compliant watch: 8 cameras per operator, 4 monitors, someone on duty every hour."""
    by_hour = np.zeros((24, 2), dtype=np.int64)
    by_hour[:, 0] = np.arange(24) % 5  # 0..4 incidents an hour, hour 0 has none
    by_hour[:, 1] = by_hour[:, 0] // 2
    by_hour[23] += 2  # 48 incidents and 20 detected in all
    watch = Watch(
        days=28.0,
        incidents=48,
        detected=20,
        unseen=16,
        away=5,
        unnoticed=7,
        delays_s=np.array([10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 100.0] * 2),
        by_hour=by_hour,
        busy_share=0.125,
        requests=12,
        detection_p=0.74,
        monitors_each=4,
        max_cameras_per_operator=8,
        hours_unwatched=0,
    )
    return dataclasses.replace(watch, **changes)


@pytest.fixture
def watched(results) -> Results:
    """The synthetic run with a compliant operators' watch."""
    return dataclasses.replace(results, watch=make_watch())


@pytest.fixture
def overloaded(results) -> Results:
    """225 cameras per operator, 12 monitors each, 3 hours of the day with nobody on duty."""
    watch = make_watch(max_cameras_per_operator=225, monitors_each=12, hours_unwatched=3)
    return dataclasses.replace(results, watch=watch)


def _row(text: str, start: str) -> str:
    hits = [line for line in text.splitlines() if line[2:].startswith(start)]
    assert len(hits) == 1, (start, hits)
    return hits[0]


def _csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


# --- absent: every output as it was ----------------------------------------------------------


def test_no_watch_leaves_every_output_without_it(results):
    assert results.watch is None
    data = to_json_dict(results)
    assert "watch" not in data and set(data) == KEYS_WITHOUT_WATCH
    assert set(data["checks"]) == {"planning_util", "flags"}
    assert all(f["subject"] != "operators" for f in data["checks"]["flags"])
    assert list(csv_texts(results)) == list(CSV_FILES)
    assert [t.title for t in all_tables(results)][-1] == "Frame-level window"
    text = summary_text(results)
    assert "Operators" not in text and "operator" not in text
    html = render_html(results)
    assert html.count("<img ") == 4 and html.count("<table>") == 6
    assert "incidents" not in html and WATCH_CSV not in html
    assert compare_text(results, results).count("detected") == 0
    with pytest.raises(ValueError):
        watch_table(results)


def test_removing_the_watch_gives_back_the_same_bytes(results, watched):
    """What the outputs of a run with a watch hold besides it is what they hold without one."""
    bare = dataclasses.replace(watched, watch=None)
    assert dumps(bare) == dumps(results)
    assert csv_texts(bare) == csv_texts(results)
    assert summary_text(bare) == summary_text(results)
    strip = re.compile(r"base64,[A-Za-z0-9+/=]+")
    assert strip.sub("", render_html(bare)) == strip.sub("", render_html(results))


# --- present ---------------------------------------------------------------------------------


def test_watch_table_rows(watched):
    t = watch_table(watched)
    assert t.title == "Operators and incidents"
    rows = {r[0]: r[1:] for r in t.rows}
    assert rows["incidents over 28 days"] == ["48", "1.7 a day"]
    assert rows["detected %"] == ["41.7", "20 of 48 incidents"]
    assert rows["detected per year"][0] == "261"  # 20 / 28 × 365 = 260.7
    assert rows["time to detection, median"][0] == "55 s"
    assert rows["time to detection, p90"][0] == "91 s"  # 90.0 + 0.1 × 10 → 91
    assert rows["missed: never on a monitor %"][0] == "33.3"
    assert rows["missed: operator busy or on a break %"][0] == "10.4"
    assert rows["missed: on screen, not noticed %"][0] == "14.6"
    assert rows["operators busy %"][0] == "12.5"
    assert rows["detection per look %"] == ["74.0", "4 monitors each (PSDB), before vigilance"]
    assert rows["cameras per operator on duty, most"][0] == "8"
    assert rows["monitors per operator"][0] == "4"
    assert rows["hours of the day with nobody on duty"][0] == "0"
    assert not any(t.flagged)
    assert all_tables(watched)[-1].title == "Operators and incidents"


def test_summary_shows_the_watch_and_fits_the_width(watched):
    text = summary_text(watched)
    assert "Operators and incidents" in text
    assert _row(text, "detected %").split()[-5:] == ["41.7", "20", "of", "48", "incidents"]
    assert max(len(line) for line in text.splitlines()) <= WIDTH


def test_no_incidents_and_no_detections_show_dashes(results):
    none = dataclasses.replace(
        results,
        watch=make_watch(
            incidents=0, detected=0, unseen=0, away=0, unnoticed=0,
            delays_s=np.array([]), by_hour=np.zeros((24, 2), dtype=np.int64),
        ),
    )  # fmt: skip
    rows = {r[0]: r[1] for r in watch_table(none).rows}
    assert rows["detected %"] == "-" and rows["time to detection, median"] == "-"
    w = json.loads(dumps(none))["watch"]
    assert w["detected_share"] is None and w["delay_median_s"] is None
    assert w["detected_per_year"] == 0
    assert _csv(csv_texts(none)[WATCH_CSV])[1] == ["0", "0", "0", ""]
    assert incidents_by_hour_png(none).startswith(PNG_MAGIC)


@pytest.mark.parametrize(
    ("changes", "check", "row"),
    [
        ({"max_cameras_per_operator": 225}, "cameras_per_operator>16", "cameras per operator"),
        ({"monitors_each": 12}, "monitors_each>9", "monitors per operator"),
        ({"hours_unwatched": 3}, "hours_unwatched>0", "hours of the day with nobody"),
    ],
)
def test_each_limit_flags_its_row_alone(results, changes, check, row):
    over = dataclasses.replace(results, watch=make_watch(**changes))
    mine = [f for f in flags(over) if f.subject == "operators"]
    assert [(f.name, f.check) for f in mine] == [("watch", check)]
    t = watch_table(over)
    flagged = [r[0] for r, f in zip(t.rows, t.flagged, strict=True) if f]
    assert len(flagged) == 1 and flagged[0].startswith(row)


def test_limits_are_strict(results):
    at_limit = make_watch(max_cameras_per_operator=16, monitors_each=9, hours_unwatched=0)
    ok = dataclasses.replace(results, watch=at_limit)
    assert not [f for f in flags(ok) if f.subject == "operators"]
    assert findings(ok) == findings(results)


def test_flags_and_findings_fire_when_over_the_limits(overloaded):
    mine = [(f.subject, f.name, f.check) for f in flags(overloaded) if f.subject == "operators"]
    assert mine == [
        ("operators", "watch", "cameras_per_operator>16"),
        ("operators", "watch", "monitors_each>9"),
        ("operators", "watch", "hours_unwatched>0"),
    ]
    found = findings(overloaded)
    assert (
        "operators: up to 225 cameras per operator on duty; no more than 16 cameras per "
        "operator (Wallace & Diffley, PSDB)" in found
    )
    assert "operators: 12 monitors each; about 9 pictures at most (Tickner & Poulton)" in found
    assert "operators: nobody on duty for 3 hours of the day" in found
    text = summary_text(overloaded)
    for start in ("cameras per operator", "monitors per operator", "hours of the day"):
        assert _row(text, start).startswith("!"), start
    assert not _row(text, "detected %").startswith("!")
    checks = json.loads(dumps(overloaded))["checks"]
    assert {"subject": "operators", "name": "watch", "check": "monitors_each>9"} in checks["flags"]


def test_json_watch_section(watched):
    data = json.loads(dumps(watched))
    w = data["watch"]
    assert {k: w[k] for k in ("days", "incidents", "detected", "unseen", "away", "unnoticed")} == {
        "days": 28.0, "incidents": 48, "detected": 20, "unseen": 16, "away": 5, "unnoticed": 7,
    }  # fmt: skip
    assert w["detected_share"] == round(20 / 48, 6)
    assert w["detected_per_year"] == 260.714  # 20 / 28 × 365, to 6 significant digits
    assert (w["delay_median_s"], w["delay_p90_s"]) == (55.0, 91.0)
    assert "delays_s" not in w
    assert w["busy_share"] == 0.125 and w["detection_p"] == 0.74
    assert (w["monitors_each"], w["max_cameras_per_operator"], w["hours_unwatched"]) == (4, 8, 0)
    assert [h["hour"] for h in w["by_hour"]] == list(range(24))
    assert w["by_hour"][7] == {"hour": 7, "incidents": 2, "detected": 1}
    assert sum(h["incidents"] for h in w["by_hour"]) == 48
    assert data["checks"]["max_cameras_per_operator"] == 16
    assert data["checks"]["max_monitors_each"] == 9
    other = dataclasses.replace(make_watch(), detected=21)
    assert dumps(watched) != dumps(dataclasses.replace(watched, watch=other))


def test_schema_doc_names_every_watch_field(watched):
    doc = (Path(__file__).resolve().parents[2] / "docs" / "report-schema.md").read_text()
    w = json.loads(dumps(watched))["watch"]
    for key in w:
        assert f"`watch.{key}`" in doc, key
    for key in w["by_hour"][0]:
        assert f"`watch.by_hour[].{key}`" in doc, key
    assert WATCH_CSV in doc and "`checks.max_cameras_per_operator`" in doc


def test_incidents_by_hour_csv(watched):
    texts = csv_texts(watched)
    assert list(texts) == [*CSV_FILES, WATCH_CSV]
    rows = _csv(texts[WATCH_CSV])
    assert rows[0] == ["hour", "incidents", "detected", "detected_share"]
    assert len(rows) == 25
    assert rows[1] == ["0", "0", "0", ""]  # no incidents at midnight: no share
    assert rows[4] == ["3", "3", "1", "0.333333"]
    assert rows[5] == ["4", "4", "2", "0.5"]


def test_html_and_write_report_include_the_watch(tmp_path, watched):
    html = render_html(watched)
    images = re.findall(r'<img [^>]*src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert len(images) == 5
    assert all(base64.b64decode(d).startswith(PNG_MAGIC) for d in images)
    assert html.count("<table>") == 7
    table = html.index("<h2>Operators and incidents</h2>")
    figure = html.index('<figure id="incidents-by-hour">')
    assert table < figure < html.index("<footer>")
    assert "Incidents and detections by hour of day" in html and WATCH_CSV in html
    names = [p.name for p in write_report(watched, tmp_path)]
    assert names == ["summary.txt", "report.json", *CSV_FILES, WATCH_CSV, "report.html"]


def test_html_flags_the_overloaded_rows(overloaded):
    html = render_html(overloaded)
    section = html[html.index("<h2>Operators and incidents</h2>") :]
    section = section[: section.index("</table>")]
    assert section.count('<tr class="flag">') == 3


def test_incidents_plot_size(watched):
    png = incidents_by_hour_png(watched)
    assert png.startswith(PNG_MAGIC)
    assert (int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")) == (1000, 400)


# --- compare ---------------------------------------------------------------------------------


def test_compare_shows_and_flags_a_fall_of_the_detected_share(results, watched):
    fewer = dataclasses.replace(
        results, watch=make_watch(detected=12, delays_s=np.array([30.0, 60.0, 90.0]))
    )
    t = compare_table(watched, fewer)
    rows = {r[0]: (r[1:], f) for r, f in zip(t.rows, t.flagged, strict=True)}
    assert rows["incidents detected %"] == (["41.7", "25.0", "-16.7"], True)
    assert rows["incidents detected per year"][0] == ["261", "156", "-104"]
    assert rows["median time to detection (s)"][0] == ["55", "60", "+5"]
    back = compare_table(fewer, watched)  # a rise is not flagged
    assert not back.flagged[[r[0] for r in back.rows].index("incidents detected %")]


def test_compare_without_both_watches_has_no_watch_rows(results, watched):
    for a, b in ((results, watched), (watched, results), (results, results)):
        assert not any("detected" in r[0] for r in compare_table(a, b).rows)


# --- the model's Watch, end to end -----------------------------------------------------------


@pytest.fixture(scope="module")
def simulated() -> Results:
    """The small CBR city with operators (nobody on duty 00:00-02:00) and many incidents."""
    from simulator.model.sizing import simulate
    from simulator.scenario.loader import apply_override, validate

    data = yaml.safe_load((DATA / "cbr_city.yaml").read_text())
    data["operators"] = {"on_duty": [0, 0] + [1] * 22}
    for item in ("simulation.days=0.05", "incidents.days=30", "incidents.per_camera_day=0.5"):
        apply_override(data, item)
    results = simulate(validate(data))
    assert results.watch is not None
    return results


def test_a_simulated_watch_reports_consistently(tmp_path, simulated):
    w = simulated.watch
    assert w is not None and w.incidents > 0
    write_report(simulated, tmp_path)
    data = json.loads((tmp_path / "report.json").read_text())
    assert (
        data["watch"]["incidents"]
        == w.incidents
        == sum(h["incidents"] for h in data["watch"]["by_hour"])
    )
    assert data["watch"]["hours_unwatched"] == 2
    checks = {(f["subject"], f["check"]) for f in data["checks"]["flags"]}
    assert ("operators", "hours_unwatched>0") in checks
    rows = _csv((tmp_path / WATCH_CSV).read_text())
    assert [int(r[1]) for r in rows[1:]] == w.by_hour[:, 0].tolist()
    assert _row((tmp_path / "summary.txt").read_text(), "hours of the day").startswith("!")


def test_long_delays_read_in_tenths_of_a_minute(results):
    slow = dataclasses.replace(results, watch=make_watch(delays_s=np.array([127.0, 127.0, 400.0])))
    rows = {r[0]: r[1] for r in watch_table(slow).rows}
    assert rows["time to detection, median"] == "2.1 min"
    assert rows["time to detection, p90"] == "5.8 min"  # 127 + 0.8 × 273 = 345.4 s
