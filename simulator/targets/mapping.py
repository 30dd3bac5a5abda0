"""A REST mapping: for each action of a `Target`, the request that does it on some system.

A YAML file (see mappings/) names, per action, the method, the path template, the query,
headers and body templates, the statuses that mean success and where the answer's data is.
Templates use `{name}` placeholders from the action's arguments (checked when loading: a
placeholder an action does not have is an error naming the file and field).
"""

from __future__ import annotations

import string
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from simulator.limits import (
    MAPPING_BYTES,
    BoundedLoader,
    LimitError,
    YamlLimits,
    clip,
    decode,
    load_yaml,
    read_bounded,
    shown,
)

#: Each action's placeholders (plus `token` when the mapping logs in).
ARGUMENTS: dict[str, frozenset[str]] = {
    k: frozenset(v)
    for k, v in {
        "login": {"user", "password"},
        "refresh": {"user", "password", "refresh_token"},
        "health": set(),
        "list_cameras": set(),
        "log_lines": {"since"},
        "add_camera": {"camera_id", "rtsp_url", "width", "height", "fps"},
        "remove_camera": {"target_id"},
        "live_view": {"target_id", "seconds"},
        "snapshot": {"target_id"},
        "ptz": {"target_id", "pan", "tilt", "zoom"},
        "playback": {"target_id", "start", "end", "duration_s", "speed"},
        "export": {"target_id", "start", "end", "duration_s"},
        "events": {"target_id", "since", "until"},
        "alarm": {"target_id", "on", "command"},  # command: "on" or "off"
        "acknowledge": {"target_id"},
    }.items()
}
#: The fields list answers can fill, per action.
FIELDS: dict[str, frozenset[str]] = {
    "list_cameras": frozenset({"target_id", "name", "url", "enabled", "status", "capture_fps"}),
    "events": frozenset(
        {"recording_id", "start", "end", "frames", "cause", "alarm_frames", "duration_s"}
    ),
    "log_lines": frozenset({"time", "text"}),
}
ActionName = Literal[
    "login", "refresh", "health", "list_cameras", "log_lines", "add_camera", "remove_camera",
    "live_view", "snapshot", "ptz", "playback", "export", "events", "alarm", "acknowledge",
]  # fmt: skip


class MappingError(ValueError):
    """A mapping file that cannot be used (one line: file, field, what is allowed)."""


class _Loader(BoundedLoader):
    """A mapping's YAML: a body is sent per request, so its aliases expand to far less."""

    limits = YamlLimits(nodes=100_000)


class ApiCall(BaseModel):
    """One HTTP request: templates filled from an action's arguments."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "GET"
    path: str = Field(description="Path template, relative to the server's URL")
    server: str | None = Field(None, description="A name in `servers` (default: the base URL)")
    query: dict[str, str] = {}
    headers: dict[str, str] = {}
    json_body: Any = Field(None, alias="json", description='JSON template ("{x}" alone: typed)')
    form: dict[str, str] | None = None
    expect: list[int] = [200]
    result: str | None = Field(None, description="Dotted path of the data in the JSON answer")


class Action(ApiCall):
    """A request doing one action, with where its answer's fields are."""

    fields: dict[str, str] = Field({}, description="Our field → dotted path in each item")
    stream: bool = Field(False, description="Read the answer as a stream (live, playback)")
    target_id: str | None = Field(None, description="add_camera: the id, as a template")
    lookup: ApiCall | None = Field(None, description="add_camera: a request whose result is the id")


class Auth(BaseModel):
    """How the mapping logs in and passes its token."""

    model_config = ConfigDict(extra="forbid")

    login: Action = Field(description="Its `result` is the access token")
    refresh: Action | None = None
    refresh_token: str | None = Field(None, description="Dotted path in the login answer")
    expires_in: str | None = Field(None, description="Dotted path: seconds the token lasts")
    query: dict[str, str] = {}
    headers: dict[str, str] = {}


class Mapping(BaseModel):
    """A system's REST API as actions of a `Target`."""

    model_config = ConfigDict(extra="forbid")

    name: str
    time_format: str = Field("iso", description='"iso", "epoch" or a strftime format')
    timezone: str = "UTC"
    servers: dict[str, str] = Field({}, description="Other base URLs; {scheme} and {host}")
    basic_auth: bool = False
    auth: Auth | None = None
    actions: dict[ActionName, Action]

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise ValueError(
                f"unknown time zone {shown(v)} (an IANA name such as Europe/Paris, or UTC)"
            ) from None
        return v

    def token_used_at(self) -> str | None:
        """Where an action's template uses `{token}` (which only a login fills), if anywhere."""
        for name, action in self.actions.items():
            reqs = [("", action)] + ([(".lookup", action.lookup)] if action.lookup else [])
            for sub, req in reqs:
                for where, text in _templates(req):
                    if "token" in placeholders(text):
                        return f"actions.{name}{sub}.{where}"
            if action.target_id is not None and "token" in placeholders(action.target_id):
                return f"actions.{name}.target_id"
        return None

    @model_validator(mode="after")
    def _placeholders_exist(self) -> Mapping:
        for key, text in self.servers.items():
            _check(f"servers.{key}", text, {"scheme", "host"})
        extra = {"token"} if self.auth else set()
        todo: list[tuple[str, str, ApiCall]] = [
            (f"actions.{k}", k, a) for k, a in self.actions.items()
        ]
        if self.auth:
            todo.append(("auth.login", "login", self.auth.login))
            if self.auth.refresh:
                todo.append(("auth.refresh", "refresh", self.auth.refresh))
            for key, text in {**self.auth.query, **self.auth.headers}.items():
                _check(f"auth.{key}", text, {"token"})
        for loc, action, req in todo:
            allowed = (
                ARGUMENTS[action] | extra
                if action not in ("login", "refresh")
                else ARGUMENTS[action]
            )
            for where, text in _templates(req):
                _check(f"{loc}.{where}", text, allowed)
            if req.server is not None and req.server not in self.servers:
                raise ValueError(f"{loc}.server: {shown(req.server)} is not in servers")
            if isinstance(req, Action):
                bad = set(req.fields) - FIELDS.get(action, frozenset())
                if bad:
                    allowed_fields = ", ".join(sorted(FIELDS.get(action, ()))) or "none"
                    raise ValueError(f"{loc}.fields: {sorted(bad)} (allowed: {allowed_fields})")
                if req.lookup is not None:
                    for where, text in _templates(req.lookup):
                        _check(f"{loc}.lookup.{where}", text, allowed)
                if req.target_id is not None:
                    _check(f"{loc}.target_id", req.target_id, allowed)
        return self


def _templates(req: ApiCall) -> list[tuple[str, str]]:
    out = [("path", req.path)]
    out += [(f"query.{k}", v) for k, v in req.query.items()]
    out += [(f"headers.{k}", v) for k, v in req.headers.items()]
    out += [(f"form.{k}", v) for k, v in (req.form or {}).items()]
    out += [(f"json{p}", v) for p, v in _strings(req.json_body, "")]
    return out


def _strings(value: Any, at: str) -> list[tuple[str, str]]:
    if isinstance(value, str):
        return [(at, value)]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in _strings(v, f"{at}.{k}")]
    if isinstance(value, list):
        return [s for i, v in enumerate(value) for s in _strings(v, f"{at}.{i}")]
    return []


def placeholders(text: str) -> set[str]:
    """The `{name}` placeholders of a template (a format spec or conversion, `{x:>9}` or
    `{x!r}`, is refused: filled in, it could make a string of any size)."""
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise ValueError(f"bad template {shown(text)}: {exc}") from None
    for _, name, spec, conversion in parts:
        if name is not None and (spec or conversion):
            raise ValueError(
                f"bad template {shown(text)}: format specs and conversions are not allowed"
            )
    return {name for _, name, _, _ in parts if name is not None}


def _check(loc: str, text: str, allowed: set[str] | frozenset[str]) -> None:
    unknown = placeholders(text) - set(allowed)
    if unknown:
        names = ", ".join("{" + n + "}" for n in sorted(allowed)) or "none"
        raise ValueError(
            f"{loc}: unknown placeholder {{{sorted(unknown)[0]}}} (allowed here: {names})"
        )


def load_mapping(path: str | Path) -> Mapping:
    """Read and check a mapping file; any problem → MappingError naming file and field."""
    path = Path(path)
    try:
        raw = load_yaml(decode(read_bounded(path, MAPPING_BYTES, "a mapping")), _Loader)
    except OSError as exc:
        raise MappingError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except LimitError as exc:
        raise MappingError(f"{path}: {exc}") from None
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" line {where.line + 1}" if where else ""
        problem = clip(str(getattr(exc, "problem", None) or exc).splitlines()[0], 200)
        raise MappingError(f"{path}:{line} not YAML: {problem}") from None
    try:
        return Mapping.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = clip(".".join(str(p) for p in err["loc"]))
        msg = clip(err["msg"].removeprefix("Value error, "), 300)
        raise MappingError(f"{path}: {loc + ': ' if loc else ''}{msg}") from None
