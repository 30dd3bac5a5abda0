"""The adapter for a kind of target: one place that knows which class serves which `--target`."""

from __future__ import annotations

from simulator.targets.base import HttpClient, Target

TARGETS = ("zoneminder", "motion", "rest")


def make_target(kind: str, client: HttpClient, host: str, *, user: str | None = None,
                password: str | None = None, mapping: str | None = None,
                stream_url: str | None = None) -> Target:  # fmt: skip
    """The adapter of `kind`, on `client`, at `host` (ValueError on bad input)."""
    if kind == "zoneminder":
        from simulator.targets.zoneminder import ZoneMinder

        return ZoneMinder(client, host, user, password)
    if kind == "rest":
        from simulator.targets.rest import RestTarget

        if not mapping:
            raise ValueError("--target rest needs --mapping FILE (see simulator/targets/mappings)")
        return RestTarget(client, host, mapping, user, password)
    if kind == "motion":
        from simulator.targets.motion import Motion

        if not stream_url:
            raise ValueError("--target motion needs --stream-url (motion's stream port URL)")
        return Motion(client, host, stream_url, user=user, password=password)
    raise ValueError(f"unknown target {kind!r} (one of {', '.join(TARGETS)})")
