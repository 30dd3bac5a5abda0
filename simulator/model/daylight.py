"""Daylight: when the sun rises and sets over the city, from its latitude and longitude.

The textbook approximation (declination and equation of time from the day of the year) is
within a few minutes of ephemeris tables at mid latitudes, which is enough to switch cameras
between day and night behaviour.
"""

from __future__ import annotations

import datetime as dt
import math

from simulator.scenario.schema import Location


def sun_times(day: dt.date, location: Location) -> tuple[float, float]:
    """Local sunrise and sunset, in hours after local midnight."""
    n = day.timetuple().tm_yday
    decl = math.radians(23.44) * math.sin(2 * math.pi * (284 + n) / 365)
    b = 2 * math.pi * (n - 81) / 364
    eot_min = 9.87 * math.sin(2 * b) - 7.53 * math.cos(b) - 1.5 * math.sin(b)
    noon = 12 - location.longitude / 15 + location.utc_offset_h - eot_min / 60
    # -0.833° accounts for refraction and the sun's radius, as almanacs do.
    lat = math.radians(location.latitude)
    cos_w = (math.sin(math.radians(-0.833)) - math.sin(lat) * math.sin(decl)) / (
        math.cos(lat) * math.cos(decl)
    )
    half_day = math.degrees(math.acos(max(-1.0, min(1.0, cos_w)))) / 15
    return noon - half_day, noon + half_day


def night_intervals(
    start: dt.datetime, duration_s: float, location: Location
) -> list[tuple[float, float]]:
    """Night spans (dusk → dawn) in seconds since `start`, clipped to [0, duration_s]."""
    spans: list[tuple[float, float]] = []
    first = start.date() - dt.timedelta(days=1)
    days = int(duration_s // 86400) + 3
    midnight0 = dt.datetime.combine(first, dt.time())
    for k in range(days):
        day = first + dt.timedelta(days=k)
        _, sunset = sun_times(day, location)
        sunrise_next, _ = sun_times(day + dt.timedelta(days=1), location)
        base = (midnight0 - start).total_seconds() + k * 86400
        a, b = base + sunset * 3600, base + (24 + sunrise_next) * 3600
        a, b = max(a, 0.0), min(b, duration_s)
        if a < b:
            spans.append((a, b))
    return spans
