"""A PTZ request's arguments read: vectors and speeds within their spaces, or the fault.

A PTZVector or PTZSpeed's PanTilt (x, y) and Zoom (x) are read as floats within the range
of the operation's generic space (ptz_node.SPACES), else the operation's fault
(ter:InvalidPosition, InvalidTranslation, InvalidVelocity, InvalidSpeed); a `space`
attribute may name any generic space of its axis.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from typing import Any

from simulator.onvif.ptz_head import Head, Vector
from simulator.onvif.ptz_node import SPACES, uri
from simulator.onvif.soap import child, sender

# The spaces a vector may name: any generic one of its axis (ZoneMinder 1.36 names the
# position space in a RelativeMove's translation); its values are read in the operation's.
GENERIC = {
    part: {uri(name) for name, (path, _, _) in SPACES.items() if path.startswith(part)}
    for part in ("PanTilt", "Zoom")
}


def _float(v: str | None, what: str, subcode: str) -> float:
    try:
        x = float(v if v is not None else "")
    except ValueError:
        raise sender(f"ter:InvalidArgVal/{subcode}", f"{what} is not a number") from None
    if not math.isfinite(x):
        raise sender(f"ter:InvalidArgVal/{subcode}", f"{what} is not finite")
    return x


def vector(op: ET.Element, name: str, pt_space: str, z_space: str, subcode: str,
           args: dict[str, Any], required: bool = True) -> tuple[float | None, ...]:  # fmt: skip
    """(pan, tilt, zoom) of a PTZVector or PTZSpeed element `name` (None: not given), each in
    its space's range, else the fault `subcode`; recorded in args. A required one gives
    PanTilt or Zoom."""
    vec = child(op, name)
    if required and child(vec, "PanTilt") is None and child(vec, "Zoom") is None:
        raise sender(f"ter:InvalidArgVal/{subcode}", f"{name} gives no PanTilt and no Zoom")
    out: list[float | None] = [None, None, None]
    for part, space, idx in (("PanTilt", pt_space, (0, 1)), ("Zoom", z_space, (2,))):
        e = child(vec, part)
        if e is None:
            continue
        given = e.get("space")
        if given is not None and given not in GENERIC[part]:
            raise sender("ter:InvalidArgVal/ter:SpaceNotSupported",
                         f"{name}/{part} space {given[:80]!r}: use {uri(space)}")  # fmt: skip
        _, xr, yr = SPACES[space]
        for i, attr, (lo, hi) in zip(idx, "xy", (xr, yr or xr), strict=False):
            x = _float(e.get(attr), f"{name}/{part} {attr}", subcode)
            if not lo <= x <= hi:
                raise sender(f"ter:InvalidArgVal/{subcode}",
                             f"{name}/{part} {attr}={x:g} outside [{lo}, {hi}]")  # fmt: skip
            out[i] = x
    args[name.lower()] = out
    return out[0], out[1], out[2]


def speeds(op: ET.Element, args: dict[str, Any]) -> tuple[float, float, float]:
    """The Speed's fractions, 1 for an axis not given (0 is refused by the head only for an
    axis that moves: it would never arrive)."""
    pan, tilt, zoom = vector(op, "Speed", "PanTiltSpeedSpace", "ZoomSpeedSpace",
                             "ter:InvalidSpeed", args, required=False)  # fmt: skip
    return tuple(1.0 if s is None else s for s in (pan, tilt, zoom))  # type: ignore[return-value]


def to(head: Head, t: float, target: tuple[float | None, ...], speeds: Vector) -> Head:
    """head.absolute, its refusal (positions are checked before: a speed of 0) a fault."""
    try:
        return head.absolute(t, target, speeds)
    except ValueError as exc:
        raise sender("ter:InvalidArgVal/ter:InvalidSpeed", str(exc)) from None
