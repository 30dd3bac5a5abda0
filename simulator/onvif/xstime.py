"""XML Schema times as ONVIF's event service writes and reads them.

xs:dateTime in UTC (`2026-12-07T23:00:00Z`; an offset is read too) and xs:duration without
years or months (`PT60S`, `PT1M`, `P1DT2H`), which have no fixed length. A value that cannot
be read is a ValueError with one line of reason.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

MAX_TEXT = 64  # characters of a time value read at all
_DURATION = re.compile(
    r"(-)?P(?:(\d{1,9})D)?(?:T(?:(\d{1,9})H)?(?:(\d{1,9})M)?(?:(\d{1,9}(?:\.\d{1,9})?)S)?)?"
)


def iso(t: float) -> str:
    """A Unix time as xs:dateTime in UTC, to the millisecond."""
    d = datetime.fromtimestamp(t, UTC)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}Z"


def duration(text: str) -> float:
    """Seconds of an xs:duration (days, hours, minutes, seconds)."""
    text = text.strip()
    m = _DURATION.fullmatch(text) if len(text) <= MAX_TEXT else None
    if m is None or text in ("P", "PT") or text.endswith("T"):
        raise ValueError(f"not an xs:duration without years or months: {text[:MAX_TEXT]!r}")
    sign, d, h, mi, s = m.groups()
    seconds = int(d or 0) * 86400 + int(h or 0) * 3600 + int(mi or 0) * 60 + float(s or 0)
    return -seconds if sign else seconds


def datetime_(text: str) -> float:
    """The Unix time of an xs:dateTime (no zone: UTC)."""
    text = text.strip()
    if len(text) > MAX_TEXT:
        raise ValueError("an xs:dateTime is at most 64 characters")
    try:
        d = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"not an xs:dateTime: {text!r}") from None
    return (d if d.tzinfo else d.replace(tzinfo=UTC)).timestamp()


def absolute_or_relative(text: str, now: float) -> tuple[float, float | None]:
    """(Unix time, the duration when relative) of a wsnt:AbsoluteOrRelativeTimeType."""
    stripped = text.strip()
    if stripped.startswith(("P", "-P")):
        seconds = duration(stripped)
        return now + seconds, seconds
    return datetime_(stripped), None
