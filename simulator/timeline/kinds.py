"""The registry of event kinds: what each kind means, what it names and what it carries.

Every layer reads kinds from here: the model emits them, the scenario's `faults` section takes
its parameter defaults from them, the JSON Lines reader checks against them, the wire applies
them and the control API injects them. A kind's parameters are a pydantic record, so a
parameter's type, range, default and meaning are written once.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

Subject = Literal["camera", "district", "link", "server", "city"]
Family = Literal["world", "stream", "action"]

Seconds = Annotated[float, Field(ge=0, le=366 * 86400)]


class Params(BaseModel):
    """A kind's parameters: none."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Timed(Params):
    duration_s: Seconds = Field(10.0, description="how long it lasts, s")


class ActivityEpisode(Timed):
    factor: Annotated[float, Field(gt=0, le=10)] = Field(1.5, description="activity multiplier")


class FrameDrops(Timed):
    rate: Annotated[float, Field(ge=0, le=1)] = Field(0.05, description="share of frames dropped")


class PacketLoss(Timed):
    percent: Annotated[float, Field(ge=0, le=100)] = Field(1.0, description="RTP packets lost, %")


class Jitter(Timed):
    ms: Annotated[float, Field(ge=0, le=5000)] = Field(30.0, description="extra delay up to, ms")


class BitrateSpike(Timed):
    factor: Annotated[float, Field(ge=1, le=20)] = Field(2.0, description="bitrate multiplier")


class ClockJump(Params):
    offset_s: Annotated[float, Field(ge=-1e9, le=1e9)] = Field(
        3600.0, description="wall-clock shift, s"
    )


class OperatorAction(Timed):
    """An operator's action: who does it, and for how long (simulated seconds)."""

    operator: Annotated[int, Field(ge=-1)] = Field(0, description="operator on duty (-1: remote)")


class LiveView(OperatorAction):
    monitor: Annotated[int, Field(ge=0)] = Field(0, description="monitor of the operator's wall")


class IncidentResponse(OperatorAction):
    ptz_moves: Annotated[int, Field(ge=0, le=1000)] = Field(3, description="PTZ moves made")


class Review(OperatorAction):
    from_s: Seconds = Field(0.0, description="start of the recording played, simulated s")
    length_s: Seconds = Field(600.0, description="length of recording played, s")
    speed: Annotated[float, Field(gt=0, le=64)] = Field(4.0, description="playback speed")


class Alarm(OperatorAction):
    wait_s: Seconds = Field(0.0, description="raised → an operator begins the check, s")


class Export(OperatorAction):
    from_s: Seconds = Field(0.0, description="start of the recording exported, simulated s")
    length_s: Seconds = Field(600.0, description="length of recording exported, s")


@dataclass(frozen=True)
class Kind:
    """One kind of event."""

    name: str
    doc: str
    subject: Subject
    family: Family
    params: type[Params] = Params
    injectable: bool = False  # the control API may apply it now (to a camera's district)

    @property
    def timed(self) -> bool:
        return "duration_s" in self.params.model_fields

    @cached_property
    def defaults(self) -> dict[str, Any]:
        """Every parameter's default."""
        return self.params().model_dump()

    def check(self, params: dict[str, Any]) -> dict[str, Any]:
        """The parameters validated, defaults filled in (raises ValueError, one line)."""
        try:
            return self.params(**params).model_dump()
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"]) or "params"
            if err["type"] == "extra_forbidden":
                allowed = ", ".join(self.params.model_fields) or "none"
                msg = f"{self.name}: unknown parameter {where!r} (allowed: {allowed})"
                raise ValueError(msg) from None
            raise ValueError(f"{self.name}: {where}: {err['msg']}") from None
        except TypeError as exc:
            raise ValueError(f"{self.name}: parameters must be an object ({exc})") from None


_ALL = (
    Kind("camera_down", "a camera fails: no stream until camera_up", "camera", "world",
         injectable=True),
    Kind("camera_up", "a camera is repaired: its stream resumes", "camera", "world",
         injectable=True),
    Kind("link_down", "a link fails: cameras behind it are cut off unless a backup carries "
         "their district", "link", "world"),
    Kind("link_up", "a link is repaired", "link", "world"),
    Kind("server_down", "a recording server fails: its cameras are not recorded", "server",
         "world"),
    Kind("server_up", "a recording server is repaired", "server", "world"),
    Kind("night", "dusk: cameras switch to night behaviour", "city", "world"),
    Kind("day", "dawn: cameras switch to day behaviour", "city", "world"),
    Kind("activity", "a district's activity episode: activity × factor for duration_s",
         "district", "world", ActivityEpisode),
    Kind("stream_freeze", "a camera sends no frames for duration_s, then resumes at a keyframe",
         "camera", "stream", Timed, injectable=True),
    Kind("frame_drops", "a camera drops each frame (and the rest of its GOP) with probability "
         "rate", "camera", "stream", FrameDrops, injectable=True),
    Kind("packet_loss", "a camera's RTP packets are lost with probability percent / 100",
         "camera", "stream", PacketLoss, injectable=True),
    Kind("jitter", "a camera's frames are delayed by up to ms at random (order kept)",
         "camera", "stream", Jitter, injectable=True),
    Kind("bitrate_spike", "a camera's stream is factor times bigger (filler NAL units)",
         "camera", "stream", BitrateSpike, injectable=True),
    Kind("reconnect_storm", "every session of a district's cameras is closed at once",
         "district", "stream", injectable=True),
    Kind("clock_jump", "a camera's RTCP wall clock shifts by offset_s", "camera", "stream",
         ClockJump, injectable=True),
    Kind("live_view", "an operator's monitor shows the camera live for duration_s (a tour "
         "step)", "camera", "action", LiveView),
    Kind("incident_response", "an operator handles an incident seen on the camera: live view, "
         "PTZ moves and a bookmark", "camera", "action", IncidentResponse),
    Kind("review", "an operator plays back length_s of the camera's recording from from_s at "
         "speed", "camera", "action", Review),
    Kind("export", "an operator exports length_s of the camera's recording from from_s",
         "camera", "action", Export),
    Kind("alarm", "an alarm is raised on the camera (an integration posts it); an operator "
         "begins checking it after wait_s and acknowledges it at duration_s", "camera", "action",
         Alarm),
    Kind("live_transfer", "an operator sends the camera live to a remote viewer (police) "
         "who watches it for duration_s", "camera", "action", OperatorAction),
)  # fmt: skip

KINDS: dict[str, Kind] = {k.name: k for k in _ALL}


def kind(name: str) -> Kind:
    """The kind called `name` (raises ValueError naming the known ones)."""
    try:
        return KINDS[name]
    except KeyError:
        raise ValueError(f"unknown event kind {name!r} (one of {', '.join(KINDS)})") from None


def family(name: Family) -> list[str]:
    """The kinds of one family, in registry order."""
    return [k.name for k in _ALL if k.family == name]


def default(kind_name: str, param: str) -> Any:
    """A parameter's default, e.g. default("frame_drops", "rate") → 0.05."""
    return KINDS[kind_name].params.model_fields[param].default
