"""The systems under test, one adapter each behind `Target` (see `base`)."""

from simulator.targets.base import (
    HttpClient,
    NotSupported,
    RecordedSpan,
    StreamRead,
    Target,
    TargetCamera,
    TargetError,
)
from simulator.targets.http import FastClient

__all__ = [
    "HttpClient",
    "NotSupported",
    "FastClient",
    "RecordedSpan",
    "StreamRead",
    "Target",
    "TargetCamera",
    "TargetError",
]
