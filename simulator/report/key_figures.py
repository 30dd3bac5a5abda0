"""Key figures over replications: each as its mean and confidence interval, in its unit."""

from __future__ import annotations

from simulator.model.replications import KEY_FIGURES, ConfidenceInterval
from simulator.model.results import Results
from simulator.report.text import Table, num, pct


def figure_text(label: str, x: float, digits: int) -> str:
    """A key figure's value in its label's unit (labels ending in % hold fractions)."""
    return pct(x, digits) if label.endswith("%") else num(x, digits)


def mean_pm(label: str, iv: ConfidenceInterval, digits: int) -> str:
    """An interval as "mean ± half-width" in its figure's unit."""
    return f"{figure_text(label, iv.mean, digits)} ± {figure_text(label, iv.half_width, digits)}"


def figure_digits(label: str, values: list[float]) -> int:
    """Decimals that show a figure's spread without noise: whole counts stay whole."""
    scale = 100 if label.endswith("%") else 1
    if scale == 1 and all(float(v).is_integer() for v in values):
        return 0
    top = max((abs(v) * scale for v in values), default=0.0)
    return 0 if top >= 1000 else 1 if top >= 100 else 2 if top >= 1 else 3


def replications_table(results: Results) -> Table:
    """Each key figure's mean and confidence interval over the replications."""
    rep = results.replications
    if rep is None:
        raise ValueError("the run has no replications (results.replications is None)")
    n = len(rep.seeds)
    level = next(iter(rep.figures.values())).level if rep.figures else 0.95
    t = Table(
        f"Key figures over {n} replications: mean and {level:.0%} confidence interval (Student t)",
        ["figure", "mean", "interval", "±", "min", "max"],
    )
    for name, iv in rep.figures.items():
        label = KEY_FIGURES[name][0]
        values = rep.values[name]
        d = figure_digits(label, values)
        if "availability" in label:
            d = 3
        t.add(
            [
                label,
                figure_text(label, iv.mean, d),
                f"{figure_text(label, iv.low, d)} – {figure_text(label, iv.high, d)}",
                figure_text(label, iv.half_width, d),
                figure_text(label, min(values), d),
                figure_text(label, max(values), d),
            ]
        )
    return t
