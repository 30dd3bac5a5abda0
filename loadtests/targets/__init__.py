"""The systems under test, one adapter each behind `Target` (see `base`)."""

from loadtests.targets.base import (
    HttpClient,
    NotSupported,
    PlainClient,
    Recording,
    StreamRead,
    Target,
    TargetCamera,
    TargetError,
)

__all__ = [
    "HttpClient",
    "NotSupported",
    "PlainClient",
    "Recording",
    "StreamRead",
    "Target",
    "TargetCamera",
    "TargetError",
]
