"""The handover: what a City gives its children, read back as it was written, and a bad file
refused in one line naming the field."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import FUZZ, json_values

from simulator.lab.inputs import read_handover
from simulator.model.city import City
from simulator.model.handover import Handover, HandoverError
from simulator.scenario import load_scenario

ROOT = Path(__file__).parents[2]
STRASBOURG = ROOT / "scenarios" / "strasbourg.yaml"
TINY = ROOT / "tests" / "streams" / "tiny.yaml"


@pytest.fixture(scope="module")
def city() -> City:
    return City.of(load_scenario(STRASBOURG))


def test_a_handover_reads_back_as_written_with_the_city_s_names(city: City) -> None:
    served = city.select("7", "2/3")
    h = Handover.of(city, served)
    assert Handover.parse(h.to_json().encode(), "x") == h
    assert h.ids == [city.table.ids[i] for i in served]
    assert [c.index for c in h.cameras] == served
    assert h.names.names() == city.names  # every camera's, not only the served ones'
    assert h.seed == city.scenario.simulation.seed
    assert h.backups == [d.name for d in city.scenario.network.districts if d.backup]


def test_its_streams_are_the_scenario_s_with_seeds_from_the_seed_tree() -> None:
    city = City.of(load_scenario(TINY))
    h = Handover.of(city)
    cam = h.cameras[1]  # h264cam-002: 320x180 at 10 fps, a 160x96 sub-stream at 5 fps
    assert (cam.id, cam.group, cam.district) == ("h264cam-002", "h264cam", "north")
    main, sub = cam.streams["main"], cam.streams["sub"]
    assert (main.codec, main.width, main.height, main.fps, main.gop) == ("h264", 320, 180, 10, 10)
    assert (sub.width, sub.height, sub.fps, sub.gop) == (160, 96, 5.0, 5)
    assert main.mbps == pytest.approx(0.3) and sub.mbps == pytest.approx(0.05)
    for name, spec in cam.streams.items():
        assert spec.seed == city.seeds.integer("streams", cam.id, name) & 0xFFFFFFFF
    assert list(h.cameras[3].streams) == ["main"]  # h265cam: no sub-stream
    # another seed, other streams; the same seed, the same ones
    other = City.of(load_scenario(TINY, ("simulation.seed=99",)))
    assert Handover.of(other).cameras[1].streams["main"].seed != main.seed
    assert Handover.of(City.of(load_scenario(TINY))) == h


def test_its_cameras_are_chosen_as_a_city_s(city: City) -> None:
    h = Handover.of(city)
    for cameras, shard in [("5", None), (None, "3/4"), ("gare-010,neuhof-006", None),
                           ("4", "2/5")]:  # fmt: skip
        assert h.select(cameras, shard).ids == [city.table.ids[i] for i in
                                                city.select(cameras, shard)]  # fmt: skip
    part = h.select("gare-010,neuhof-006")
    assert part.select("1").ids == ["gare-010"]
    with pytest.raises(ValueError, match="unknown camera id"):
        part.select("centre-fixed-061")


def _broken(h: Handover, edit) -> bytes:  # noqa: ANN001
    data = json.loads(h.to_json())
    edit(data)
    return json.dumps(data).encode()


@pytest.mark.parametrize(("edit", "message"), [
    (lambda d: d["cameras"][0]["streams"]["main"].update(seed=-1),
     "cameras.0.streams.main.seed: Input should be greater than or equal to 0"),
    (lambda d: d["cameras"][1].update(id=7), "cameras.1.id: Input should be a valid string"),
    (lambda d: d["cameras"][0].pop("district"), "cameras.0.district: Field required"),
    (lambda d: d["cameras"][0]["streams"].pop("main"), "cameras.0.streams: no main stream"),
    (lambda d: d["cameras"][0]["streams"]["main"].update(fps="10"), "cameras.0.streams.main.fps"),
    (lambda d: d["cameras"][0].update(extra=1), "cameras.0.extra: Extra inputs are not permitted"),
    (lambda d: d.update(cameras=[]), "cameras: List should have at least 1 item"),
    (lambda d: d["cameras"].append(d["cameras"][0]), "cameras.2.id: 'h264cam-001' twice"),
    (lambda d: d["cameras"][0].update(id="nope-1"), "cameras.0.id: 'nope-1' is not in names"),
    (lambda d: d["names"]["links"].append("tunnel:x"), "names.links.3: unknown link kind 'tunnel'"),
    (lambda d: d.update(version=2), "version: Input should be 1"),
])  # fmt: skip
def test_a_bad_handover_is_one_line_naming_the_file_and_field(edit, message: str) -> None:  # noqa: ANN001
    h = Handover.of(City.of(load_scenario(TINY))).select("2")
    with pytest.raises(HandoverError) as err:
        Handover.parse(_broken(h, edit), "run/cameras.json")
    text = str(err.value)
    assert text.startswith("run/cameras.json: ") and message in text and "\n" not in text


@pytest.mark.parametrize(("data", "message"), [
    (b"", "run/cameras.json: Expecting value"),
    (b"[1, 2]", "run/cameras.json: Input should be a valid dictionary"),
    (b'{"version": 1, "seed": 1e999}', "numbers must be finite"),
    (b"\xff{}", "not UTF-8"),
    (b"[" * 100 + b"]" * 100, "nested deeper"),
])  # fmt: skip
def test_a_handover_that_is_not_one_is_one_line_too(data: bytes, message: str) -> None:
    with pytest.raises(HandoverError, match=message) as err:
        Handover.parse(data, "run/cameras.json")
    assert str(err.value).startswith("run/cameras.json: ") and "\n" not in str(err.value)


# --- fuzz: arbitrary bytes and structures in, a Handover or one line of HandoverError out ----
GOOD = json.loads(Handover.of(City.of(load_scenario(TINY))).select("2").to_json())
KEYS = ["cameras", "streams", "main", "sub", "names", "links", "seed", "index", "fps", "gop",
        "width", "id", "district", "backups", "version", "night_factor", "mbps"]  # fmt: skip


def _read(path: Path) -> None:
    try:
        assert isinstance(read_handover(path), Handover)
    except HandoverError as exc:
        assert "\n" not in str(exc) and len(str(exc)) < 1000 and str(path) in str(exc)


@FUZZ
@given(st.binary(max_size=500))
def test_handover_reader_bytes(tmp_path: Path, data: bytes) -> None:
    (tmp_path / "cameras.json").write_bytes(data)
    _read(tmp_path / "cameras.json")


@FUZZ
@given(st.lists(st.sampled_from(KEYS) | st.integers(0, 2), min_size=1, max_size=5), json_values)
def test_handover_reader_structures(tmp_path: Path, path: list, value: object) -> None:
    data = copy.deepcopy(GOOD)
    node = data
    for key in path[:-1]:  # down the path as far as it goes, then set the value there
        held = key in node if isinstance(node, dict) else isinstance(key, int) and key < len(node)
        if held and isinstance(node[key], dict | list):
            node = node[key]
    if isinstance(node, dict):
        node[str(path[-1])] = value
    elif isinstance(node, list) and node:
        node[0] = value
    (tmp_path / "cameras.json").write_text(json.dumps(data))  # NaN and Infinity included
    _read(tmp_path / "cameras.json")
