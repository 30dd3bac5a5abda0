"""The ONVIF PTZ service (ver20, tptz) of the PTZ cameras: a head that moves, presets, home.

A camera is PTZ when its group is (devices.is_ptz: a dome). Each has one PTZ node and one
PTZ configuration that all its media profiles carry, in ONVIF's generic spaces (ptz_node.py;
pan and tilt in [-1, 1], zoom in [0, 1], speeds in [0, 1]). Its head moves at a bounded
speed (ptz_head.Head, on the host's monotonic clock), so GetStatus says MOVING and the
positions on the way, then IDLE. At most MAX_PRESETS presets per camera, in slots "1", "2",
… (a new preset takes the smallest free; SetPreset may name a free slot, as ZoneMinder's
control module does and numbered-slot cameras allow). Every command is logged
(ptz_log.PtzLog) with its arrival time. A camera without PTZ answers
ter:InvalidArgVal/ter:NoPTZProfile where a call names one of its profiles and
ter:ActionNotSupported/ter:PTZNotSupported otherwise; out-of-range values, unknown tokens and
too many presets answer the PTZ specification's faults.
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import quoteattr

from simulator.onvif.devices import Device
from simulator.onvif.ptz_args import speeds, to, vector
from simulator.onvif.ptz_head import CONTINUOUS_MAX_S, Head, Vector
from simulator.onvif.ptz_log import PtzLog
from simulator.onvif.ptz_node import (
    CAPABILITIES,
    CONFIG,
    DEFAULT_TIMEOUT_S,
    MAX_PRESETS,
    MIN_TIMEOUT_S,
    NODE,
    TPTZ,
    configuration_xml,
    node_xml,
    options_xml,
    vector_xml,
)
from simulator.onvif.soap import SoapFault, el, receiver, sender, text
from simulator.onvif.xstime import duration, iso

MAX_NAME = 64  # tt:Name's length
SLOTS = tuple(str(i) for i in range(1, MAX_PRESETS + 1))  # the preset tokens, in order
Operation = Callable[[Device, ET.Element, float], str]


@dataclass
class Unit:
    """One PTZ camera's state: its head, presets (token → name, position) and home."""

    head: Head = field(default_factory=Head)
    presets: dict[str, tuple[str, Vector]] = field(default_factory=dict)
    home: Vector = (0.0, 0.0, 0.0)


class PtzService:
    """The PTZ operations of every camera, their heads, presets and the command log."""

    def __init__(self, log: PtzLog | None = None, clock: Callable[[], float] = time.monotonic,
                 wall: Callable[[], float] = time.time) -> None:  # fmt: skip
        self.log = log or PtzLog()
        self.clock = clock  # the heads' (monotonic) time
        self.wall = wall  # the log's arrival times (the host's Unix time)
        self.units: dict[str, Unit] = {}  # PTZ cameras only, made at their first call

    def _unit(self, dev: Device, op: ET.Element | None = None) -> Unit:
        """The camera's unit; faults for a camera without PTZ or a profile it has not."""
        token = text(op, "ProfileToken") if op is not None else None
        if op is not None and dev.profile(token) is None:
            names = ", ".join(p.name for p in dev.profiles)
            raise sender("ter:InvalidArgVal/ter:NoProfile",
                         f"no profile {str(token)[:40]!r}: this camera has {names}")  # fmt: skip
        if not dev.ptz:
            if op is not None:
                raise sender("ter:InvalidArgVal/ter:NoPTZProfile",
                             f"{dev.id} has no PTZ: its profile {token} has no PTZ "
                             "configuration")  # fmt: skip
            raise receiver("ter:ActionNotSupported/ter:PTZNotSupported",
                           f"{dev.id} has no PTZ (PTZ cameras: the dome groups)")  # fmt: skip
        return self.units.setdefault(dev.id, Unit())

    def _command(
        self, kind: str, fn: Callable[[Device, ET.Element, Unit, dict[str, Any]], str]
    ) -> Operation:
        """An operation that moves the head or changes its presets, logged as it arrives."""

        def op(dev: Device, action: ET.Element, now: float) -> str:
            wall, args = self.wall(), {"profile": text(action, "ProfileToken")}
            try:
                answer = fn(dev, action, self._unit(dev, action), args)
            except SoapFault as f:
                self.log.add(wall, dev.id, kind, args, f.subcode)
                raise
            self.log.add(wall, dev.id, kind, args, None)
            return answer

        return op

    def absolute_move(self, dev: Device, op: ET.Element, u: Unit, args: dict) -> str:
        target = vector(op, "Position", "AbsolutePanTiltPositionSpace",
                        "AbsoluteZoomPositionSpace", "ter:InvalidPosition", args)  # fmt: skip
        u.head = to(u.head, self.clock(), target, speeds(op, args))
        return f'<tptz:AbsoluteMoveResponse xmlns:tptz="{TPTZ}"/>'

    def relative_move(self, dev: Device, op: ET.Element, u: Unit, args: dict) -> str:
        by = vector(op, "Translation", "RelativePanTiltTranslationSpace",
                    "RelativeZoomTranslationSpace", "ter:InvalidTranslation", args)  # fmt: skip
        t = self.clock()
        u.head = to(u.head, t, u.head.relative_target(t, by), speeds(op, args))
        return f'<tptz:RelativeMoveResponse xmlns:tptz="{TPTZ}"/>'

    def continuous_move(self, dev: Device, op: ET.Element, u: Unit, args: dict) -> str:
        v = vector(op, "Velocity", "ContinuousPanTiltVelocitySpace",
                   "ContinuousZoomVelocitySpace", "ter:InvalidVelocity", args)  # fmt: skip
        given = text(op, "Timeout")
        try:
            timeout = DEFAULT_TIMEOUT_S if given is None else duration(given)
        except ValueError as exc:
            raise sender("ter:InvalidArgVal/ter:TimeoutNotSupported", str(exc)) from None
        args["timeout_s"] = timeout
        if not MIN_TIMEOUT_S <= timeout <= CONTINUOUS_MAX_S:
            raise sender("ter:InvalidArgVal/ter:TimeoutNotSupported", f"Timeout {timeout:g} s "
                         f"outside [{MIN_TIMEOUT_S:g}, {CONTINUOUS_MAX_S:g}] s")  # fmt: skip
        u.head = u.head.continuous(self.clock(), v, timeout)
        return f'<tptz:ContinuousMoveResponse xmlns:tptz="{TPTZ}"/>'

    def stop(self, dev: Device, op: ET.Element, u: Unit, args: dict) -> str:
        flags = []
        for part in ("PanTilt", "Zoom"):
            v = text(op, part)
            if v not in (None, "true", "false", "1", "0"):
                raise sender("ter:InvalidArgVal", f"{part} must be true or false")
            flags.append(v not in ("false", "0"))
        args["pan_tilt"], args["zoom"] = flags
        u.head = u.head.stop(self.clock(), *flags)
        return f'<tptz:StopResponse xmlns:tptz="{TPTZ}"/>'

    def _goto(self, u: Unit, target: Vector, op: ET.Element, args: dict) -> None:
        u.head = to(u.head, self.clock(), target, speeds(op, args))

    def goto_preset(self, dev: Device, op: ET.Element, u: Unit, args: dict) -> str:
        args["preset"] = token = text(op, "PresetToken")
        self._goto(u, self._preset(u, token)[1], op, args)
        return f'<tptz:GotoPresetResponse xmlns:tptz="{TPTZ}"/>'

    def goto_home_position(self, dev: Device, op: ET.Element, u: Unit, args: dict) -> str:
        self._goto(u, u.home, op, args)
        return f'<tptz:GotoHomePositionResponse xmlns:tptz="{TPTZ}"/>'

    def set_home_position(self, dev: Device, op: ET.Element, u: Unit, args: dict) -> str:
        u.home = args["position"] = u.head.position(self.clock())
        return f'<tptz:SetHomePositionResponse xmlns:tptz="{TPTZ}"/>'

    def _preset(self, u: Unit, token: str | None) -> tuple[str, Vector]:
        if token not in u.presets:
            raise sender("ter:InvalidArgVal/ter:NoToken", f"no preset {str(token)[:40]!r} "
                         f"(this camera has {len(u.presets)})")  # fmt: skip
        return u.presets[token]  # type: ignore[index]

    def set_preset(self, dev: Device, op: ET.Element, u: Unit, args: dict) -> str:
        args["preset"] = token = text(op, "PresetToken")
        args["name"] = name = text(op, "PresetName")
        t = self.clock()
        if token is not None and token not in SLOTS:
            self._preset(u, token)
        elif token is None and len(u.presets) >= MAX_PRESETS:
            raise receiver("ter:Action/ter:TooManyPresets", f"{dev.id} holds at most "
                           f"{MAX_PRESETS} presets: remove one first")  # fmt: skip
        elif token is None:
            token = next(t for t in SLOTS if t not in u.presets)
        name = name or f"preset {token}"
        if len(name) > MAX_NAME or not name.isprintable():
            raise sender("ter:InvalidArgVal/ter:InvalidPresetName",
                         f"a preset name is at most {MAX_NAME} printable characters")  # fmt: skip
        if any(n == name and k != token for k, (n, _) in u.presets.items()):
            raise sender("ter:InvalidArgVal/ter:PresetExist", f"a preset is named {name!r}")
        if any(u.head.moving(t)):
            raise receiver("ter:Action/ter:MovingPTZ", "the head is moving: stop it or wait")
        u.presets[token] = (name, u.head.position(t))
        args["token"] = token
        return (
            f'<tptz:SetPresetResponse xmlns:tptz="{TPTZ}">{el("tptz:PresetToken", token)}'
            "</tptz:SetPresetResponse>"
        )

    def remove_preset(self, dev: Device, op: ET.Element, u: Unit, args: dict) -> str:
        args["preset"] = token = text(op, "PresetToken")
        self._preset(u, token)
        del u.presets[token]  # type: ignore[arg-type]
        return f'<tptz:RemovePresetResponse xmlns:tptz="{TPTZ}"/>'

    # The queries (not logged).

    def get_presets(self, dev: Device, op: ET.Element, now: float) -> str:
        u = self._unit(dev, op)
        items = "".join(
            f"<tptz:Preset token={quoteattr(k)}>{el('tt:Name', n)}{vector_xml('tt:PTZPosition', p)}"
            "</tptz:Preset>"
            for k, (n, p) in sorted(u.presets.items(), key=lambda kv: int(kv[0]))
        )
        return f'<tptz:GetPresetsResponse xmlns:tptz="{TPTZ}">{items}</tptz:GetPresetsResponse>'

    def get_status(self, dev: Device, op: ET.Element, now: float) -> str:
        u = self._unit(dev, op)
        t = self.clock()
        pt, zoom = ("MOVING" if m else "IDLE" for m in u.head.moving(t))
        return (
            f'<tptz:GetStatusResponse xmlns:tptz="{TPTZ}"><tptz:PTZStatus>'
            f"{vector_xml('tt:Position', u.head.position(t))}<tt:MoveStatus>"
            f"{el('tt:PanTilt', pt)}{el('tt:Zoom', zoom)}</tt:MoveStatus>"
            f"{el('tt:UtcTime', iso(now))}</tptz:PTZStatus></tptz:GetStatusResponse>"
        )

    def get_nodes(self, dev: Device, op: ET.Element, now: float) -> str:
        self._unit(dev)
        node = node_xml("tptz:PTZNode")
        return f'<tptz:GetNodesResponse xmlns:tptz="{TPTZ}">{node}</tptz:GetNodesResponse>'

    def get_node(self, dev: Device, op: ET.Element, now: float) -> str:
        self._unit(dev)
        if text(op, "NodeToken") != NODE:
            raise sender("ter:InvalidArgVal/ter:NoEntity", f"no PTZ node: this camera has {NODE}")
        node = node_xml("tptz:PTZNode")
        return f'<tptz:GetNodeResponse xmlns:tptz="{TPTZ}">{node}</tptz:GetNodeResponse>'

    def get_configurations(self, dev: Device, op: ET.Element, now: float) -> str:
        self._unit(dev)
        conf = configuration_xml("tptz:PTZConfiguration", len(dev.profiles))
        return (
            f'<tptz:GetConfigurationsResponse xmlns:tptz="{TPTZ}">{conf}'
            "</tptz:GetConfigurationsResponse>"
        )

    def _config(self, dev: Device, op: ET.Element, name: str) -> None:
        self._unit(dev)
        if text(op, name) != CONFIG:
            raise sender("ter:InvalidArgVal/ter:NoConfig", f"no PTZ configuration: this "
                         f"camera has {CONFIG}")  # fmt: skip

    def get_configuration(self, dev: Device, op: ET.Element, now: float) -> str:
        self._config(dev, op, "PTZConfigurationToken")
        conf = configuration_xml("tptz:PTZConfiguration", len(dev.profiles))
        return (
            f'<tptz:GetConfigurationResponse xmlns:tptz="{TPTZ}">{conf}'
            "</tptz:GetConfigurationResponse>"
        )

    def get_configuration_options(self, dev: Device, op: ET.Element, now: float) -> str:
        self._config(dev, op, "ConfigurationToken")
        return (
            f'<tptz:GetConfigurationOptionsResponse xmlns:tptz="{TPTZ}">'
            f"{options_xml('tptz:PTZConfigurationOptions')}</tptz:GetConfigurationOptionsResponse>"
        )

    def get_service_capabilities(self, dev: Device, op: ET.Element, now: float) -> str:
        self._unit(dev)
        return (
            f'<tptz:GetServiceCapabilitiesResponse xmlns:tptz="{TPTZ}">{CAPABILITIES}'
            "</tptz:GetServiceCapabilitiesResponse>"
        )

    def operations(self) -> dict[str, Operation]:
        """The PTZ service's operations by local name (the commands logged)."""
        ops: dict[str, Operation] = {}
        for name in COMMANDS:
            ops[name] = self._command(name, getattr(self, _snake(name)))
        for name in QUERIES:
            ops[name] = getattr(self, _snake(name))
        return ops


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


COMMANDS = ("AbsoluteMove", "RelativeMove", "ContinuousMove", "Stop", "GotoPreset",
            "SetPreset", "RemovePreset", "GotoHomePosition", "SetHomePosition")  # fmt: skip
QUERIES = ("GetPresets", "GetStatus", "GetNodes", "GetNode", "GetConfigurations",
           "GetConfiguration", "GetConfigurationOptions", "GetServiceCapabilities")  # fmt: skip
