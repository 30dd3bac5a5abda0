"""scenarios/strasbourg-costs.yaml is scenarios/strasbourg.yaml with example prices: the same
city in every other field (so its sizing is the bundled scenario's), and a valid costs section."""

from __future__ import annotations

from pathlib import Path

from simulator.scenario import load_scenario

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def test_the_priced_example_is_strasbourg_with_prices():
    plain = load_scenario(SCENARIOS / "strasbourg.yaml")
    priced = load_scenario(SCENARIOS / "strasbourg-costs.yaml")
    assert plain.costs is None
    assert priced.costs is not None and set(priced.costs.servers) == {"rec"}
    skip = {"costs", "name"}
    assert priced.model_dump(exclude=skip) == plain.model_dump(exclude=skip)
    assert priced.name == plain.name.replace(")", ", priced)")
