"""`compare --replications`: a paired difference is "significant" only when the t test can
say so; with no spread between the pairs there is nothing to test."""

from __future__ import annotations

from simulator.model.replications import Replications, t_interval
from simulator.report.compare import compare_replications_table

SEEDS = [1, 2, 3]


def _reps(values: dict[str, list[float]]) -> Replications:
    return Replications(7, SEEDS, {k: t_interval(v) for k, v in values.items()}, values)


def _verdicts(base: dict, other: dict) -> dict[str, tuple[str, bool]]:
    t = compare_replications_table(_reps(base), _reps(other), ("a", "b"))
    return {row[0]: (row[-1], flag) for row, flag in zip(t.rows, t.flagged, strict=True)}


def test_a_constant_difference_is_not_called_significant_and_shows_its_size():
    """The free-space reserve 15 GB larger on 1 server: +0.015 TB in every pair, spread 0."""
    base = {"storage_needed_tb": [700.2, 701.3, 699.8]}
    other = {"storage_needed_tb": [700.215, 701.315, 699.815]}
    row = compare_replications_table(_reps(base), _reps(other), ("a", "b")).rows[0]
    assert row[-1] == "constant"
    assert "+0.015" in row[3]
    assert _verdicts(base, other)["storage needed (TB)"][1] is False


def test_identical_sides_are_called_identical():
    same = {"servers_needed": [6.0, 6.0, 6.0], "incidents": [20.0, 25.0, 19.0]}
    verdicts = _verdicts(same, same)
    assert verdicts == {
        "recording servers needed": ("identical", False),
        "incidents": ("identical", False),
    }


def test_a_difference_with_spread_is_tested():
    base = {"incidents": [20.0, 25.0, 19.0]}
    assert _verdicts(base, {"incidents": [40.0, 47.0, 41.0]})["incidents"] == ("yes", True)
    assert _verdicts(base, {"incidents": [21.0, 24.0, 20.5]})["incidents"] == ("no", False)
