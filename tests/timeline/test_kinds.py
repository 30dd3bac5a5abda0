"""The registry of kinds: one place for every kind's parameters and defaults."""

from __future__ import annotations

import pytest

from simulator.scenario.schema import StreamFaults
from simulator.timeline import KINDS
from simulator.timeline.kinds import family


def test_every_kind_has_a_doc_a_subject_and_defaults() -> None:
    for k in KINDS.values():
        assert k.doc and k.subject in ("camera", "district", "link", "server", "city")
        assert k.check({}) == k.defaults  # every parameter has a default
    assert set(family("world")) | set(family("stream")) | set(family("action")) == set(KINDS)


def test_the_scenarios_fault_defaults_are_the_registrys() -> None:
    f = StreamFaults()
    assert f.frame_drop_rate == KINDS["frame_drops"].defaults["rate"]
    assert f.packet_loss_percent == KINDS["packet_loss"].defaults["percent"]
    assert f.jitter_ms == KINDS["jitter"].defaults["ms"]
    assert f.bitrate_spike_factor == KINDS["bitrate_spike"].defaults["factor"]
    assert f.clock_jump_s == KINDS["clock_jump"].defaults["offset_s"]


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("frame_drops", {"rate": 2}, "frame_drops: rate"),
        ("jitter", {"ms": True}, "jitter: ms"),
        ("stream_freeze", {"rate": 0.1}, "unknown parameter 'rate'"),
        ("review", {"speed": 0}, "review: speed"),
    ],
)
def test_bad_parameters_are_one_line(name: str, params: dict, message: str) -> None:
    with pytest.raises(ValueError) as err:
        KINDS[name].check(params)
    assert message in str(err.value) and "\n" not in str(err.value)
