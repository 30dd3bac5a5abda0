"""The JSON Lines form: written, read back, and checked against the registry and the city."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from click.testing import CliRunner

from simulator.cli import main
from simulator.model.city import City
from simulator.model.timeline import build_timeline
from simulator.scenario import load_scenario
from simulator.timeline import Event, LinkId, TimelineError, read_jsonl, write_jsonl

TINY = Path(__file__).parents[1] / "streams" / "tiny.yaml"


@pytest.fixture(scope="module")
def city() -> City:
    return City.of(load_scenario(TINY, ("faults.jitter_per_camera_day=20",)))


def test_a_timeline_reads_back_as_written(city: City, tmp_path: Path) -> None:
    events = build_timeline(city)
    assert {"jitter", "night"} <= {e.kind for e in events}
    path = tmp_path / "t.jsonl"
    with open(path, "w") as f:
        write_jsonl(events, f)
    back = list(read_jsonl(path, city.names))
    # times are written to the millisecond
    assert [(e.kind, e.camera, e.district, e.link, e.server) for e in back] == [
        (e.kind, e.camera, e.district, e.link, e.server) for e in events
    ]
    assert all(abs(a.t - b.t) <= 5e-4 for a, b in zip(back, events, strict=True))
    assert [e.params for e in back] == [e.params for e in events]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"t": 1, "kind": "meteor"}', "unknown event kind 'meteor'"),
        ('{"t": 1, "kind": "camera_down", "camera": "nope-001"}', "unknown camera 'nope-001'"),
        ('{"t": 1, "kind": "link_down", "link": "uplink:atlantis"}', "unknown link"),
        ('{"t": 1, "kind": "link_down", "link": "fibre:x"}', "unknown link kind 'fibre'"),
        ('{"t": 1, "kind": "camera_down"}', "expected camera"),
        ('{"t": -1, "kind": "night"}', "t: expected seconds"),
        ('{"t": 1, "kind": "jitter", "camera": "h264cam-001", "params": {"ms": -5}}', "jitter: ms"),
        ('{"t": 1, "kind": "night", "colour": 3}', "unknown field 'colour'"),
        ("not json", "not JSON"),
    ],
)
def test_a_bad_line_is_named_by_file_and_line(
    city: City, tmp_path: Path, line: str, message: str
) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"t": 0, "kind": "night"}\n\n' + line + "\n")
    with pytest.raises(TimelineError) as err:
        list(read_jsonl(path, city.names))
    assert str(err.value).startswith(f"{path}:3: ") and message in str(err.value)
    r = CliRunner().invoke(main, ["serve", str(TINY), "--timeline", str(path)])
    assert r.exit_code == 2 and f"{path}:3:" in r.output and len(r.output.splitlines()) == 1


def test_link_ids_round_trip() -> None:
    for text in ("core", "access:cam-001", "uplink:north", "backup:south"):
        assert str(LinkId.parse(text)) == text
    with pytest.raises(ValueError):
        LinkId("core", "x")
    out = io.StringIO()
    write_jsonl([Event(1.0, "link_down", link=LinkId("uplink", "n"))], out)
    assert out.getvalue() == '{"kind":"link_down","link":"uplink:n","t":1.0}\n'
