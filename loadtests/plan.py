"""What one load test runs, as camsim's Locust options say: the settings, the schedule of
operators' actions, the operators on duty by hour and the target to drive.

Every process builds the same plan from the same options (a worker gets the master's custom
arguments with its first spawn message), then takes its own shard of the schedule. A plan
reads the scenario once; it builds the scenario's City only to draw the actions from the
model or to check a timeline's names (`check`: `camsim loadtest` does, before Locust starts)
without a lab run's handover (OUT/run/cameras.json, whose names check the schedule), so a lab
run's load, given the lab's schedule and cameras, builds none.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from functools import cached_property
from pathlib import Path
from typing import Any

from loadtests.schedule import Source, end_of
from simulator.scenario import Scenario, load_scenario
from simulator.targets.base import HttpClient, Target
from simulator.targets.factory import TARGETS
from simulator.targets.factory import make_target as adapter
from simulator.timeline.event import Event

PASSWORD_ENV = "CAMSIM_TARGET_PASSWORD"


@dataclass(frozen=True)
class Settings:
    """camsim's custom Locust arguments (`--camsim-…`), parsed."""

    scenario: str | None = None
    timeline: str | None = None
    handover: str | None = None  # a lab run's cameras (OUT/run/cameras.json)
    cameras: str | None = None
    overrides: tuple[str, ...] = ()  # scenario --set PATH=VALUE
    target: str = "zoneminder"
    mapping: str | None = None  # the generic REST target's mapping (YAML)
    stream_url: str | None = None  # motion: its stream port's URL
    camera_map: str | None = None  # JSON {camsim camera id: target id}; default: by name
    user: str | None = None
    password: str | None = None
    speed: float = 1.0
    start_at: float = 0.0
    late_ms: float = 100.0
    max_in_flight: int = 1000
    timeout_s: float = 30.0
    grace_s: float = 60.0  # at most this long for the actions in flight once the schedule ends
    lead_s: float = 2.0  # the replay starts this long after the test does
    metrics_port: int = -1  # -1: no Prometheus endpoint; 0: any port
    rtsp: str | None = None  # camsim serve's API (…/api/cameras) or a file of rtsp:// URLs
    rtsp_viewers: int = 0
    view_s: float = 60.0
    integration: bool = False  # an IntegrationUser raises the alarms the operators check
    summary: str | None = None  # write the run's summary (JSON) here at the end
    origin: float = 0.0  # Unix time the replay starts (set by the master or local runner)
    shards: int = 1  # processes replaying the schedule (set by the master)

    @classmethod
    def of(cls, options: Any) -> Settings:
        got = {f.name: getattr(options, f"camsim_{f.name}", None) for f in fields(cls)}
        got["password"] = got["password"] or os.environ.get(PASSWORD_ENV)
        got["overrides"] = tuple(got["overrides"] or ())
        return cls(**{k: v for k, v in got.items() if v is not None})


def add_arguments(parser: Any) -> None:
    """camsim's options as Locust custom arguments (in the web UI where they make sense)."""
    arg = parser.add_argument  # Locust's own (a group would drop is_secret and the web UI)
    arg("--camsim-scenario", help="Scenario YAML whose operators' actions are replayed")
    arg("--camsim-timeline", help="Replay this timeline (JSON Lines) instead of the model's")
    arg("--camsim-handover", help="A lab run's cameras (OUT/run/cameras.json): the names to "
        "check the timeline against, the cameras to choose from")  # fmt: skip
    arg("--camsim-cameras", help="Only the first N cameras, or these comma-separated ids")
    arg("--camsim-set", dest="camsim_overrides", action="append", metavar="PATH=VALUE",
        help="Override a scenario field (repeatable)")  # fmt: skip
    arg("--camsim-target", default="zoneminder", choices=TARGETS, help="System under test")
    arg("--camsim-mapping", help="Generic REST target: the YAML mapping of actions")
    arg("--camsim-stream-url", help="motion: the URL of its stream port")
    arg("--camsim-camera-map", help="JSON {camsim camera id: target id} (default: by name)")
    arg("--camsim-user", help="Target user name")
    arg("--camsim-password", is_secret=True, help=f"Target password (or ${PASSWORD_ENV})")
    arg("--camsim-speed", type=float, default=1.0, help="Simulated seconds per second")
    arg("--camsim-start-at", type=float, default=0.0, help="Simulated second to start at")
    arg("--camsim-late-ms", type=float, default=100.0, help="A start later than this is late")
    arg("--camsim-max-in-flight", type=int, default=1000, help="Actions in flight per process")
    arg("--camsim-timeout-s", type=float, default=30.0, help="HTTP read timeout")
    arg("--camsim-grace-s", type=float, default=60.0,
        help="Wait at most this long for actions in flight after the schedule's end")  # fmt: skip
    arg("--camsim-lead-s", type=float, default=2.0, help="Start the replay this long after")
    arg("--camsim-metrics-port", type=int, default=-1,
        help="Prometheus /metrics on 127.0.0.1:PORT (+ worker index); -1: off, 0: any")  # fmt: skip
    arg("--camsim-rtsp", help="camsim serve's http://…/api/cameras, or a file of rtsp:// URLs")
    arg("--camsim-rtsp-viewers", type=int, default=0, help="RTSP viewers at most (the wall's)")
    arg("--camsim-view-s", type=float, default=60.0, help="Length of one RTSP viewing")
    arg("--camsim-integration", action="store_true", default=False,
        help="An alarm integration raises the alarms; the operators acknowledge them")  # fmt: skip
    arg("--camsim-summary", include_in_web_ui=False, help="Write the summary (JSON) here")
    arg("--camsim-actions-log", include_in_web_ui=False,
        help="Append one JSON line per action done to this file")  # fmt: skip
    arg("--camsim-origin", type=float, default=0.0, include_in_web_ui=False, help="(internal)")
    arg("--camsim-shards", type=int, default=1, include_in_web_ui=False, help="(internal)")


class Plan:
    """The settings, and what they lead to, built once per process."""

    def __init__(self, settings: Settings, scenario: Scenario | None = None,
                 check: bool = False) -> None:  # fmt: skip
        self.settings = settings
        self.given = scenario  # already read by the caller, with the same overrides
        self.check = check  # check a timeline's names against the scenario's City

    @cached_property
    def scenario(self) -> Scenario:
        """The scenario with its overrides (its operators' rota; the City's source)."""
        s = self.settings
        if self.given is not None:
            return self.given
        if not s.scenario:
            raise ValueError("--camsim-scenario: a scenario is needed")
        return load_scenario(s.scenario, s.overrides)

    @cached_property
    def source(self) -> Source:
        s = self.settings
        if not s.scenario:
            raise ValueError("--camsim-scenario: a scenario is needed")
        handover = None
        if s.handover:
            from simulator.lab.inputs import read_handover

            handover = read_handover(s.handover)  # HandoverError, a ValueError
        return Source(s.scenario, s.timeline, s.cameras, s.overrides, handover)

    @cached_property
    def actions(self) -> list[Event]:
        """Every action of the run (all shards), in time order, from --start-at on."""
        events = self.source.events(self.scenario, self.check)
        return [e for e in events if e.t >= self.settings.start_at]

    @cached_property
    def end_s(self) -> float:
        """When the last action ends (simulated s); the load shape asks every second."""
        return end_of(self.actions)

    def on_duty(self, sim_t: float) -> int | None:
        """Operators on duty at simulated second `sim_t` (the scenario's rota; None without)."""
        ops = self.scenario.operators
        if ops is None:
            return None
        start = self.scenario.simulation.start
        hour = (start.hour + int((start.minute * 60 + start.second + sim_t) // 3600)) % 24
        return ops.on_duty[hour]

    @property
    def monitors_each(self) -> int:
        ops = self.scenario.operators
        return ops.monitors_each if ops is not None else 0


def make_target(settings: Settings, client: HttpClient, host: str) -> Target:
    """The adapter `settings` name, on `client`, at `host` (ValueError on bad input)."""
    return adapter(settings.target, client, host, user=settings.user, password=settings.password,
                   mapping=settings.mapping, stream_url=settings.stream_url)  # fmt: skip


def camera_map(settings: Settings, target: Target) -> dict[str, str]:
    """camsim camera id → the target's id: from --camsim-camera-map, else by camera name."""
    if settings.camera_map:
        try:
            data = json.loads(Path(settings.camera_map).read_text())
        except (OSError, ValueError) as exc:
            raise ValueError(f"{settings.camera_map}: cannot read the camera map: {exc}") from None
        if not isinstance(data, Mapping):
            raise ValueError(f"{settings.camera_map}: expected an object {{camera: target id}}")
        return {str(k): str(v) for k, v in data.items()}
    return {c.name: c.target_id for c in target.list_cameras()}
