"""Time spans on the run's clock (s): merged, complemented, overlapped, and recordings'
frames counted once and pro rata to the part of them inside a window."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

Span = tuple[float, float]


def union(spans: Iterable[Span]) -> list[Span]:
    """Overlapping or touching spans merged, sorted."""
    out: list[list[float]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def complement(spans: Sequence[Span], window: Span, min_len: float) -> list[Span]:
    """The parts of `window` no span covers, at least `min_len` long."""
    out, t = [], window[0]
    for a, b in union(spans):
        if a - t >= min_len and a > window[0]:
            out.append((t, min(a, window[1])))
        t = max(t, b)
        if t >= window[1]:
            break
    if window[1] - t >= min_len:
        out.append((t, window[1]))
    return [(a, b) for a, b in out if b > a]


def overlap(a: Span, b: Span) -> float:
    return max(0.0, min(a[1], b[1]) - max(a[0], b[0]))


def distinct(recordings: Sequence[tuple[float, float, int]]) -> list[tuple[float, float, float]]:
    """Recordings with each one's overlap with those before it cut off, pro rata, so that
    frames two recordings both hold count once (motion starts each movie with the packets it
    had buffered, which the previous movie already holds)."""
    out: list[tuple[float, float, float]] = []
    covered = float("-inf")
    for a, b, n in sorted(recordings):
        if b > a and a < covered:
            kept = max(0.0, b - covered) / (b - a)
            a, n = min(covered, b), n * kept
        out.append((a, b, float(n)))
        covered = max(covered, b)
    return out


def inside(r: tuple, window: Span, outside: Sequence[Span]) -> float:
    """A stretch's frames (start, end, frames, ...), pro rata to its part inside the window
    and outside the spans."""
    a, b, n = r[:3]
    if b <= a:
        return float(n) if window[0] <= a <= window[1] else 0.0
    inside = overlap((a, b), window)
    inside -= sum(overlap((max(a, window[0]), min(b, window[1])), s) for s in outside)
    return n * max(0.0, inside) / (b - a)
