"""Hypothesis settings and strategies the fuzz tests share: how hard a fuzz target runs, and
JSON-like values (scalars, then lists and objects of them) for bodies and files."""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# a fuzz target: a few hundred examples, however slow, with fixtures such as tmp_path shared
FUZZ = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# NaN and infinities included: JSON readers must refuse them, not crash on them
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=30)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)
