"""A generic REST target: any system whose API a mapping file describes (see `mapping`).

Actions the mapping leaves out raise `NotSupported`. Lists are read from one answer (no
paging): a mapping should ask for a page large enough for the test.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

from simulator.targets.base import (
    HttpClient,
    RecordedSpan,
    StreamRead,
    Target,
    TargetCamera,
    TargetError,
)
from simulator.targets.mapping import Action, ApiCall, Mapping, MappingError, load_mapping

MAPPINGS = Path(__file__).with_name("mappings")


class RestTarget(Target):
    """A system driven through the requests of a `Mapping`."""

    def __init__(
        self,
        client: HttpClient,
        base_url: str,
        mapping: Mapping | str | Path,
        user: str | None = None,
        password: str | None = None,
    ) -> None:
        super().__init__(client, base_url, user, password)
        self.mapping = mapping if isinstance(mapping, Mapping) else load_mapping(mapping)
        token_at = self.mapping.token_used_at()
        if token_at is not None and user is None:
            where = self.mapping.name if isinstance(mapping, Mapping) else mapping
            raise MappingError(f"{where}: {token_at} uses {{token}}, which needs a login: give "
                               "--user (and --password or $CAMSIM_TARGET_PASSWORD)")  # fmt: skip
        self.kind = self.mapping.name
        self._tz = ZoneInfo(self.mapping.timezone)
        self._token: str | None = None
        self._refresh: str | None = None
        self._until = float("inf")
        url = urlsplit(self.base_url)
        self._servers = {
            k: v.format(scheme=url.scheme, host=url.hostname or "").rstrip("/")
            for k, v in self.mapping.servers.items()
        }

    # --- the machinery -----------------------------------------------------------------------
    def _value(self, v: Any) -> Any:
        if isinstance(v, datetime):
            v = v if v.tzinfo else v.replace(tzinfo=UTC)
            fmt = self.mapping.time_format
            if fmt == "epoch":
                return v.timestamp()
            v = v.astimezone(self._tz)
            return v.isoformat() if fmt == "iso" else v.strftime(fmt)
        return v

    def _fill(self, template: Any, args: dict[str, Any], quoted: bool = False) -> Any:
        if isinstance(template, dict):
            return {k: self._fill(v, args, quoted) for k, v in template.items()}
        if isinstance(template, list):
            return [self._fill(v, args, quoted) for v in template]
        if not isinstance(template, str):
            return template
        whole = template.startswith("{") and template.endswith("}") and template[1:-1] in args
        if whole and not quoted:  # "{width}" alone keeps its type in a JSON body
            return args[template[1:-1]]
        values = {k: str(v) for k, v in args.items()}
        if quoted:
            values = {k: quote(v, safe="") for k, v in values.items()}
        return template.format_map(values)

    def _send(self, name: str, req: ApiCall, args: dict[str, Any], **kw: Any):
        args = {k: self._value(v) for k, v in args.items()}
        if self._token is not None:
            if name not in ("login", "refresh") and time.monotonic() > self._until - 60:
                self.refresh()
            args["token"] = self._token
        base = self._servers[req.server] if req.server else self.base_url
        url = f"{base}/{self._fill(req.path, args, quoted=True).lstrip('/')}"
        params = self._fill(req.query, args)
        headers = self._fill(req.headers, args)
        auth = self.mapping.auth
        if auth and self._token is not None:
            params |= self._fill(auth.query, args)
            headers |= self._fill(auth.headers, args)
        if req.json_body is not None:
            kw["json"] = self._fill(req.json_body, args)
        if req.form is not None:
            kw["data"] = self._fill(req.form, args)
        if self.mapping.basic_auth and self.user is not None:
            kw["auth"] = (self.user, self.password or "")
        return self._call(name, req.method, url, req.expect, params=params, headers=headers, **kw)

    def _action(self, name: str) -> Action:
        action = self.mapping.actions.get(name)  # type: ignore[call-overload]
        if action is None:
            raise self._unsupported(name, f"not in the {self.mapping.name} mapping")
        return action

    def _data(self, name: str, req: ApiCall, args: dict[str, Any]) -> Any:
        resp = self._send(name, req, args)
        if req.result is None and not resp.content:
            return None
        try:
            body = resp.json()
        except ValueError as exc:
            raise TargetError(f"{self.kind}: {name}: not JSON: {resp.text[:200]}") from exc
        return dig(body, req.result, f"{self.kind}: {name}: result")

    def _items(self, name: str, args: dict[str, Any]) -> list[dict[str, Any]]:
        action = self._action(name)
        rows = self._data(name, action, args)
        if not isinstance(rows, list):
            raise TargetError(f"{self.kind}: {name}: {action.result!r} is not a list")
        where = f"{self.kind}: {name}: field"
        return [{k: dig(row, p, where, None) for k, p in action.fields.items()} for row in rows]

    def _time(self, v: Any) -> datetime | None:
        if v in (None, ""):
            return None
        if isinstance(v, int | float) or (isinstance(v, str) and _number(v)):
            return datetime.fromtimestamp(float(v), UTC)
        fmt = self.mapping.time_format
        t = datetime.fromisoformat(v) if fmt in ("iso", "epoch") else datetime.strptime(v, fmt)
        return (t if t.tzinfo else t.replace(tzinfo=self._tz)).astimezone(UTC)

    # --- session -----------------------------------------------------------------------------
    def login(self) -> None:
        """Log in with the mapping's `auth.login` when it has one and a user is given."""
        if self.mapping.auth is None or self.user is None:
            return
        self._take(self.mapping.auth.login, "login", {"user": self.user, "password": self.password})

    def refresh(self) -> None:
        auth = self.mapping.auth
        if auth is None or auth.refresh is None or self._refresh is None:
            self.login()
            return
        args = {"user": self.user, "password": self.password, "refresh_token": self._refresh}
        self._take(auth.refresh, "refresh", args)

    def _take(self, req: Action, name: str, args: dict[str, Any]) -> None:
        auth = self.mapping.auth
        assert auth is not None
        self._token = None
        body = self._send(name, req, args).json()
        self._token = str(dig(body, req.result, f"{self.kind}: {name}: result"))
        if auth.refresh_token:
            self._refresh = dig(body, auth.refresh_token, f"{self.kind}: refresh_token", None)
        ttl = dig(body, auth.expires_in, "", None) if auth.expires_in else None
        self._until = time.monotonic() + float(ttl) if ttl is not None else float("inf")

    # --- actions -----------------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        data = self._data("health", self._action("health"), {})
        return data if isinstance(data, dict) else {"answer": data}

    def list_cameras(self) -> list[TargetCamera]:
        return [
            TargetCamera(
                target_id=str(r.get("target_id")),
                name=str(r.get("name") or r.get("target_id")),
                url=str(r.get("url") or ""),
                enabled=_truthy(r.get("enabled", True)),
                status=str(r.get("status") or ""),
                capture_fps=None if r.get("capture_fps") is None else float(r["capture_fps"]),
            )
            for r in self._items("list_cameras", {})
        ]

    def log_lines(self, since: datetime) -> list[str]:
        """The answer's lines from `since` on (when they have a time), oldest first."""
        since = since if since.tzinfo else since.replace(tzinfo=UTC)
        rows = [(self._time(r.get("time")), r) for r in self._items("log_lines", {"since": since})]
        if all(t is not None for t, _ in rows):
            rows.sort(key=lambda tr: tr[0])  # type: ignore[arg-type, return-value]
        return [
            f"{t.isoformat() if t else ''} {r.get('text', '')}".strip()
            for t, r in rows
            if t is None or t >= since
        ]

    def add_camera(self, camera_id: str, rtsp_url: str, width: int, height: int, fps: float) -> str:
        action = self._action("add_camera")
        args = {"camera_id": camera_id, "rtsp_url": rtsp_url, "width": width}
        args |= {"height": height, "fps": fps}
        got = self._data("add_camera", action, args)
        if action.target_id is not None:
            return self._fill(action.target_id, args)
        if action.lookup is not None:
            got = self._data("add_camera", action.lookup, args)
        if got is None or isinstance(got, dict | list):
            raise TargetError(f"{self.kind}: add_camera: no id in the answer ({got!r:.100})")
        return str(got)

    def remove_camera(self, target_id: str) -> None:
        self._send("remove_camera", self._action("remove_camera"), {"target_id": target_id})

    def live_view(self, target_id: str, seconds: float) -> StreamRead:
        return self._stream("live_view", {"target_id": target_id, "seconds": seconds}, seconds)

    def snapshot(self, target_id: str) -> bytes:
        args = {"target_id": target_id}
        resp = self._send("snapshot", self._action("snapshot"), args, stream=True)
        return self._still("snapshot", resp)

    def ptz(self, target_id: str, pan: float, tilt: float, zoom: float) -> None:
        args = {"target_id": target_id, "pan": pan, "tilt": tilt, "zoom": zoom}
        self._send("ptz", self._action("ptz"), args)

    def playback(
        self, target_id: str, start: datetime, duration_s: float, speed: float = 1.0
    ) -> StreamRead:
        args = {"target_id": target_id, "start": start, "duration_s": duration_s, "speed": speed}
        args["end"] = start + timedelta(seconds=duration_s)
        return self._stream("playback", args, duration_s / speed)

    def export(
        self, target_id: str, start: datetime, duration_s: float, out: BinaryIO | None = None
    ) -> StreamRead:
        args = {"target_id": target_id, "start": start, "duration_s": duration_s}
        args["end"] = start + timedelta(seconds=duration_s)
        return self._stream("export", args, 3600, out)

    def _stream(
        self, name: str, args: dict[str, Any], seconds: float, out: BinaryIO | None = None
    ) -> StreamRead:
        t0 = time.perf_counter()
        resp = self._send(name, self._action(name), args, stream=True)
        return self._read_response(name, resp, t0, seconds, out=out)

    def events(self, target_id: str, since: datetime, until: datetime) -> list[RecordedSpan]:
        out = []
        for r in self._items("events", {"target_id": target_id, "since": since, "until": until}):
            start = self._time(r.get("start"))
            if start is None:
                raise TargetError(f"{self.kind}: events: an item without a start: {r}")
            length = None if r.get("duration_s") is None else float(r["duration_s"])
            end = self._time(r.get("end"))
            if end is None and length is not None and "end" not in self._action("events").fields:
                end = start + timedelta(seconds=length)
            out.append(
                RecordedSpan(
                    recording_id=str(r.get("recording_id") or start.isoformat()),
                    target_id=target_id,
                    start=start,
                    end=end,
                    frames=int(r.get("frames") or 0),
                    cause=str(r.get("cause") or ""),
                    alarm_frames=int(r.get("alarm_frames") or 0),
                    duration_s=length,
                )
            )
        return out

    def alarm(self, target_id: str, on: bool) -> None:
        args = {"target_id": target_id, "on": on, "command": "on" if on else "off"}
        self._send("alarm", self._action("alarm"), args)

    def acknowledge(self, target_id: str) -> None:
        self._send("acknowledge", self._action("acknowledge"), {"target_id": target_id})


_MISSING = object()


def dig(data: Any, path: str | None, what: str, default: Any = _MISSING) -> Any:
    """`data` at a dotted path ("a.b.0", "-1" for the last item); "" or None: all of it."""
    for key in (path or "").split(".") if path else []:
        try:
            data = data[int(key)] if isinstance(data, list) else data[key]
        except (KeyError, IndexError, TypeError, ValueError):
            if default is not _MISSING:
                return default
            raise TargetError(f"{what} {path!r}: no {key!r} in the answer") from None
    return data


def _number(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


def _truthy(v: Any) -> bool:
    return v not in (False, 0, "0", "false", "False", "no", None, "")
