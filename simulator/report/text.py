"""Plain-text tables and the number formats the summary and the reports share."""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass
class Table:
    """A titled table: header, rows of already formatted cells, and which rows are flagged."""

    title: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    flagged: list[bool] = field(default_factory=list)
    align: str = ""  # one of "l"/"r" per column; default: first left, rest right

    def add(self, cells: list[str], flagged: bool = False) -> None:
        """Append one row."""
        self.rows.append(cells)
        self.flagged.append(flagged)

    def alignment(self) -> str:
        """Alignment string, one letter per column."""
        return self.align or "l" + "r" * (len(self.columns) - 1)


def count(n: int | float) -> str:
    """A count of things (cameras, servers, incidents) with thousands separators: "1,200",
    the one way counts are written in every report."""
    return f"{int(n):,}"


def num(x: float, digits: int = 1) -> str:
    """A fixed-point number, or "-" when not finite."""
    if x is None or not math.isfinite(x):
        return "-"
    return f"{x:,.{digits}f}"


def pct(fraction: float, digits: int = 1) -> str:
    """A fraction as a percentage; tiny non-zero values stay visible."""
    if fraction is None or not math.isfinite(fraction):
        return "-"
    p = fraction * 100
    if p == 0:
        return "0"
    if abs(p) < 10 ** (-digits):
        return f"{p:.1e}"
    return f"{p:.{digits}f}"


def clock(seconds: float) -> str:
    """Simulated time as HH:MM, prefixed with the day number after the first day."""
    if not math.isfinite(seconds):
        return "-"
    total_min = int(seconds // 60)
    day, minute_of_day = divmod(total_min, 24 * 60)
    hhmm = f"{minute_of_day // 60:02d}:{minute_of_day % 60:02d}"
    return hhmm if day == 0 else f"day {day + 1} {hhmm}"


def duration(seconds: float) -> str:
    """A length of time in the largest sensible unit."""
    if not math.isfinite(seconds):
        return "-"
    if seconds < 120:
        return f"{seconds:g} s"
    if seconds < 7200:
        return f"{seconds / 60:g} min"
    return f"{seconds / 3600:g} h"
