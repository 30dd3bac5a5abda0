"""A PTZ camera's head: where it points at a time, moving at a bounded speed towards a target.

A pure computation on time (no I/O, no clock of its own): each axis (pan, tilt, zoom) is a
linear segment from a value at one time to a value at a later time, at most its MAX_SPEED
(ONVIF's generic units per second), and stays at the end value after. Pan and tilt are in
ONVIF's generic position space [-1, 1], zoom in [0, 1]; a move's speed is a fraction
(0, 1] of the axis's MAX_SPEED (ONVIF's generic speed space), each axis moving on its own.
A continuous move runs at its velocity (a fraction of MAX_SPEED, signed) until its timeout or
the axis's limit, whichever comes first. Pan does not wrap around (the generic space has
ends). The speeds are assumptions of the order of a city dome's (pan 180 °/s when [-1, 1]
spans 360°, the full zoom range in 2 s).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

AXES = ("pan", "tilt", "zoom")
LIMITS = {"pan": (-1.0, 1.0), "tilt": (-1.0, 1.0), "zoom": (0.0, 1.0)}
MAX_SPEED = {"pan": 1.0, "tilt": 1.0, "zoom": 0.5}  # generic units per second at speed 1
CONTINUOUS_MAX_S = 3600.0  # a continuous move without a timeout stops at its limit or after this

Vector = tuple[float, float, float]  # pan, tilt, zoom


@dataclass(frozen=True)
class Segment:
    """One axis's motion: x0 at t0 to x1 at t1 (t1 == t0: at rest at x1)."""

    x0: float
    x1: float
    t0: float
    t1: float

    def at(self, t: float) -> float:
        if t >= self.t1:
            return self.x1
        if t <= self.t0:
            return self.x0
        return self.x0 + (self.x1 - self.x0) * (t - self.t0) / (self.t1 - self.t0)

    def moving(self, t: float) -> bool:
        return self.t0 <= t < self.t1 and self.x0 != self.x1


def rest(x: float, t: float = 0.0) -> Segment:
    return Segment(x, x, t, t)


def inside(axis: str, x: float) -> bool:
    lo, hi = LIMITS[axis]
    return lo <= x <= hi


@dataclass(frozen=True)
class Head:
    """The three axes' segments; every move returns a new Head starting from where this one
    is at the move's time."""

    pan: Segment = rest(0.0)
    tilt: Segment = rest(0.0)
    zoom: Segment = rest(0.0)

    def position(self, t: float) -> Vector:
        return (self.pan.at(t), self.tilt.at(t), self.zoom.at(t))

    def moving(self, t: float) -> tuple[bool, bool]:
        """(pan/tilt moving, zoom moving) at t."""
        return (self.pan.moving(t) or self.tilt.moving(t), self.zoom.moving(t))

    def idle_at(self) -> float:
        """When the last axis arrives (its segment's end)."""
        return max(self.pan.t1, self.tilt.t1, self.zoom.t1)

    def absolute(
        self, t: float, target: tuple[float | None, ...], speed: tuple[float, ...] = (1, 1, 1)
    ) -> Head:
        """Move each axis given (not None) to its target at its speed fraction; the others
        keep their motion. Raises ValueError for a target outside the limits or a speed
        outside (0, 1]."""
        segs = {}
        for axis, x, s in zip(AXES, target, speed, strict=True):
            if x is None:
                continue
            if not inside(axis, x):
                raise ValueError(f"{axis} {x:g} outside {LIMITS[axis]}")
            if not 0 < s <= 1:
                raise ValueError(f"{axis} speed {s:g} outside (0, 1]")
            x0 = getattr(self, axis).at(t)
            segs[axis] = Segment(x0, x, t, t + abs(x - x0) / (s * MAX_SPEED[axis]))
        return replace(self, **segs)

    def relative_target(self, t: float, by: tuple[float | None, ...]) -> tuple[float | None, ...]:
        """Where a translation from the position at t leads, clamped to the limits (as
        cameras stop at an end); None for an axis not given."""
        target = []
        for axis, x, d in zip(AXES, self.position(t), by, strict=True):
            lo, hi = LIMITS[axis]
            target.append(None if d is None else min(hi, max(lo, x + d)))
        return tuple(target)

    def relative(
        self, t: float, by: tuple[float | None, ...], speed: tuple[float, ...] = (1, 1, 1)
    ) -> Head:
        """Move each axis given by a translation from where it is at t (relative_target)."""
        return self.absolute(t, self.relative_target(t, by), speed)

    def continuous(self, t: float, velocity: tuple[float | None, ...], timeout: float) -> Head:
        """Move each axis given at its velocity (a signed fraction of MAX_SPEED in [-1, 1])
        for `timeout` seconds or until its limit; an axis given 0 stops, one not given keeps
        its motion."""
        if not 0 < timeout <= CONTINUOUS_MAX_S:
            raise ValueError(f"timeout {timeout:g} s outside (0, {CONTINUOUS_MAX_S:g}]")
        segs = {}
        for axis, v in zip(AXES, velocity, strict=True):
            if v is None:
                continue
            if not -1 <= v <= 1:
                raise ValueError(f"{axis} velocity {v:g} outside [-1, 1]")
            x0 = getattr(self, axis).at(t)
            if v == 0:
                segs[axis] = rest(x0, t)
                continue
            rate = v * MAX_SPEED[axis]
            lo, hi = LIMITS[axis]
            x1 = min(hi, max(lo, x0 + rate * timeout))
            segs[axis] = Segment(x0, x1, t, t + abs(x1 - x0) / abs(rate))
        return replace(self, **segs)

    def stop(self, t: float, pan_tilt: bool = True, zoom: bool = True) -> Head:
        """Stop the axes asked where they are at t."""
        segs = {}
        for axis in AXES:
            if (axis == "zoom" and zoom) or (axis != "zoom" and pan_tilt):
                segs[axis] = rest(getattr(self, axis).at(t), t)
        return replace(self, **segs)
