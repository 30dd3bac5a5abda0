"""Scenario files: schema, loading, validation and overrides."""

from simulator.scenario.cameras import parse_resolution
from simulator.scenario.loader import ScenarioError, apply_override, load_scenario, validate
from simulator.scenario.schema import Scenario

__all__ = [
    "Scenario",
    "ScenarioError",
    "apply_override",
    "load_scenario",
    "parse_resolution",
    "validate",
]
