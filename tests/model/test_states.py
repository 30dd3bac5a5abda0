"""States' district sums: a segment sum over each district's cameras when there are many
districts, a dense product when few; both are the same sums."""

from __future__ import annotations

import numpy as np
import pytest

import simulator.model.states as states_module
from simulator.model.city import City
from simulator.model.states import States
from simulator.model.world import world_events

MOVES = {
    "rows out of district order": ("cameras.0.district=gare", "cameras.1.district=centre"),
    "a district without cameras": ("cameras.1.district=centre", "cameras.2.district=centre"),
}


@pytest.mark.parametrize("moves", MOVES.values(), ids=MOVES.keys())
@pytest.mark.parametrize("segments", [False, True], ids=["dense", "segments"])
def test_district_sums_are_the_sums_of_each_districts_cameras(load, monkeypatch, segments, moves):
    """Against a per-district loop, to float32 rounding (1e-6)."""
    city = City.of(load("mixed_city", *moves))
    states = States(city, world_events(city), tick=60, ticks=60)
    if segments:
        monkeypatch.setattr(states_module, "SEGMENT_SUMS_FROM", 1)
    x = np.random.default_rng(3).random((len(city.table), 60), dtype=np.float32)
    got = states.district_sums(x)
    names = [d.name for d in city.scenario.network.districts]
    assert got.shape == (len(names), 60)
    for d in range(len(names)):
        want = x[city.table.district == d].sum(axis=0, dtype=np.float64)
        np.testing.assert_allclose(got[d], want, rtol=1e-6, atol=0)
