"""The systems under test, one adapter each behind `Target` (see `base`)."""

from simulator.targets.base import (
    HttpClient,
    NotSupported,
    Recording,
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
    "Recording",
    "StreamRead",
    "Target",
    "TargetCamera",
    "TargetError",
]
