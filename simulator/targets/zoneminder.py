"""ZoneMinder 1.36 as a target: its REST API (`/zm/api`) and its stream server (`nph-zms`).

Cameras become `Ffmpeg` monitors that record continuously without decoding by default
(`Function=Record`, `VideoWriter=2` passthrough, `SaveJPEGs=0`, `DecodingEnabled=0`, one event
a `SectionLength`): about 1 % of a core per 1080p camera. Quirk: without decoding ZoneMinder
has no picture to serve, so live views and snapshots get a black placeholder (a 2.5 kB JPEG at
320x180, about 2 frames a second); pass `monitor={"DecodingEnabled": 1}` for cameras that
operators watch live.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

from simulator.targets.base import (
    MAX_STREAM_BYTES,
    HttpClient,
    RecordedSpan,
    StreamRead,
    Target,
    TargetCamera,
    TargetError,
)

#: The monitor fields `add_camera` sets besides name, path and size.
MONITOR_DEFAULTS: dict[str, Any] = {
    "Type": "Ffmpeg",
    "Method": "rtpRtsp",  # RTP over the RTSP TCP connection
    "Function": "Record",
    "Enabled": 1,
    "Colours": 4,
    "VideoWriter": 2,  # passthrough: store the camera's H.264/H.265 as it comes
    "SaveJPEGs": 0,
    "DecodingEnabled": 0,
    "SectionLength": 60,
}
_PAGE = 100  # the API's page size (and its maximum)
_MAX_PAGES = 100  # bound on events and log pages read by one call
_TIME = "%Y-%m-%d %H:%M:%S"
_ZM_CONF = Path("/etc/zm/conf.d")


def _socks_dir() -> str:
    """ZoneMinder's ZM_PATH_SOCKS on this host (its conf.d, else the Debian default)."""
    for conf in sorted(_ZM_CONF.glob("*.conf")) if _ZM_CONF.is_dir() else []:
        try:
            text = conf.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for line in text.splitlines():
            if line.startswith("ZM_PATH_SOCKS="):
                return line.split("=", 1)[1].strip()
    return "/run/zm"


class ZoneMinder(Target):
    """A ZoneMinder 1.36 server; `base_url` is its web root, e.g. http://127.0.0.1:8089/zm."""

    kind = "zoneminder"

    def __init__(
        self,
        client: HttpClient,
        base_url: str,
        user: str | None = None,
        password: str | None = None,
        monitor: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(client, base_url, user, password)
        self.monitor = {**MONITOR_DEFAULTS, **(monitor or {})}
        self._access: str | None = None
        self._refresh: str | None = None
        self._access_until = 0.0  # time.monotonic() at which the access token expires
        self._tz: ZoneInfo | None = None

    # --- session ---------------------------------------------------------------------------
    def login(self) -> None:
        """Get API tokens when a user is given (auth on); then learn the server's time zone."""
        if self.user is not None:
            self._take_tokens({"user": self.user, "pass": self.password or ""}, "login")
        self._tz = None
        self._zone()

    def refresh(self) -> None:
        """Renew the access token with the refresh token (or log in again without one)."""
        if self._refresh is None:
            self.login()
        else:
            self._take_tokens({"token": self._refresh}, "refresh")

    def _take_tokens(self, data: dict[str, str], name: str) -> None:
        body = self._json(name, "POST", "api/host/login.json", data=data, auth=False)
        if not body.get("access_token"):  # with auth off it answers 200 and null tokens
            raise TargetError(
                f"zoneminder: {name}: no access_token (is OPT_USE_AUTH off?): {str(body)[:200]}"
            )
        self._access = body["access_token"]
        self._refresh = body.get("refresh_token", self._refresh)
        self._access_until = time.monotonic() + float(body.get("access_token_expires", 3600))

    def _auth(self) -> dict[str, str]:
        if self._access is None:
            return {}
        if time.monotonic() > self._access_until - 60:
            self.refresh()
        return {"token": self._access}

    def _json(
        self, name: str, method: str, path: str, *, auth: bool = True, **kw: Any
    ) -> dict[str, Any]:
        params = {**(self._auth() if auth else {}), **kw.pop("params", {})}
        resp = self._call(name, method, path, params=params, **kw)
        try:
            return resp.json()
        except ValueError as exc:
            raise TargetError(f"zoneminder: {name}: {path}: not JSON: {resp.text[:200]}") from exc

    # --- time: the API speaks the server's local time --------------------------------------
    def _zone(self) -> ZoneInfo:
        if self._tz is None:
            # part of the session: named "login" wherever it is first needed
            tz = self._json("login", "GET", "api/host/getTimeZone.json").get("tz") or "UTC"
            self._tz = ZoneInfo(tz)
        return self._tz

    def _to_zm(self, t: datetime) -> str:
        t = t if t.tzinfo else t.replace(tzinfo=UTC)
        return t.astimezone(self._zone()).strftime(_TIME)

    def _from_zm(self, s: str | None) -> datetime | None:
        if not s:
            return None
        return datetime.strptime(s, _TIME).replace(tzinfo=self._zone()).astimezone(UTC)

    # --- state -----------------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        version = self._json("health", "GET", "api/host/getVersion.json")
        daemons = self._json("health", "GET", "api/host/daemonCheck.json")
        load = self._json("health", "GET", "api/host/getLoad.json")
        return {
            "version": version.get("version"),
            "apiversion": version.get("apiversion"),
            "daemons_running": daemons.get("result") == 1,
            "load": load.get("load"),
            "timezone": str(self._zone()),
        }

    def list_cameras(self) -> list[TargetCamera]:
        out = []
        for row in self._json("list_cameras", "GET", "api/monitors.json")["monitors"]:
            m, status = row["Monitor"], row.get("Monitor_Status") or {}
            fps = status.get("CaptureFPS")
            out.append(
                TargetCamera(
                    target_id=str(m["Id"]),
                    name=m["Name"],
                    url=m.get("Path") or "",
                    enabled=int(m.get("Enabled") or 0) == 1,
                    status=status.get("Status") or "",
                    capture_fps=None if fps is None else float(fps),
                )
            )
        return out

    def capture_daemon(self, target_id: str) -> dict[str, Any]:
        """zmdc's word on the camera's capture daemon: {"status": bool, "statustext": ...}."""
        path = f"api/monitors/daemonStatus/id:{int(target_id)}/daemon:zmc.json"
        return self._json("health", "GET", path)

    def log_lines(self, since: datetime) -> list[str]:
        """The Logs table since then, oldest first: `time component code message`."""
        t0 = (since if since.tzinfo else since.replace(tzinfo=UTC)).timestamp()
        lines: list[str] = []
        for page in range(1, _MAX_PAGES + 1):
            params = {"sort": "TimeKey", "direction": "desc", "limit": _PAGE, "page": page}
            body = self._json("log_lines", "GET", "api/logs.json", params=params)
            for row in body.get("logs", []):
                log = row["Log"]
                if float(log["TimeKey"]) < t0:
                    return lines[::-1]
                when = datetime.fromtimestamp(float(log["TimeKey"]), UTC).isoformat()
                lines.append(f"{when} {log['Component']} {log['Code']} {log['Message']}")
            if not body.get("pagination", {}).get("nextPage"):
                break
        return lines[::-1]

    # --- cameras ---------------------------------------------------------------------------
    def add_camera(self, camera_id: str, rtsp_url: str, width: int, height: int, fps: float) -> str:
        """Add a monitor named `camera_id` (ZoneMinder takes its frame rate from the stream)."""
        return self.add_monitor(camera_id, {"Path": rtsp_url, "Width": width, "Height": height})

    def add_monitor(self, camera_id: str, fields: Mapping[str, Any]) -> str:
        """Add a monitor named `camera_id` with these fields over the defaults (e.g. what
        ZoneMinder's ONVIF wizard sets from its probe: `targets/onvif_probe.py`)."""
        fields = {**self.monitor, **fields, "Name": camera_id}
        data = {f"Monitor[{k}]": v for k, v in fields.items()}
        body = self._json("add_camera", "POST", "api/monitors.json", data=data)
        if body.get("message") != "Saved":
            raise TargetError(f"zoneminder: add_camera {camera_id}: {body.get('message')}")
        # The answer carries no id: the newest monitor of that name is the one just added.
        path = f"api/monitors/index/Name:{quote(camera_id, safe='')}.json"
        ids = [int(r["Monitor"]["Id"]) for r in self._json("add_camera", "GET", path)["monitors"]]
        if not ids:
            raise TargetError(f"zoneminder: add_camera {camera_id}: saved but not listed")
        return str(max(ids))

    def control_id(self, protocol: str) -> int | None:
        """The Controls row of a control protocol (e.g. `onvif`: "ONVIF Camera"), or None."""
        rows = self._json("add_camera", "GET", "api/controls.json").get("controls", [])
        ids = [int(r["Control"]["Id"]) for r in rows if r["Control"].get("Protocol") == protocol]
        return min(ids) if ids else None

    def monitor_fields(self, target_id: str) -> dict[str, Any]:
        """The monitor's row as the API gives it (Path, Method, ONVIF_URL …)."""
        body = self._json("list_cameras", "GET", f"api/monitors/{int(target_id)}.json")
        return dict(body["monitor"]["Monitor"])

    def remove_camera(self, target_id: str) -> None:
        """Delete the monitor (ZoneMinder keeps its events; see `delete_events`), and end its
        PTZ control server if it has one here (`stop_control`)."""
        self._json("remove_camera", "DELETE", f"api/monitors/{int(target_id)}.json")
        self.stop_control(target_id)

    def stop_control(self, target_id: str) -> bool:
        """Tell the monitor's control server to quit, when ZoneMinder runs on this host.
        Quirk: the first PTZ request for a monitor starts `zmcontrol.pl --id N`, which then
        waits for commands on ZM_PATH_SOCKS/zmcontrol-N.sock forever, even once the monitor
        is deleted; it ends on a `quit` command. Returns whether one was told."""
        if urlsplit(self.base_url).hostname not in ("127.0.0.1", "localhost", "::1"):
            return False
        sock = Path(_socks_dir()) / f"zmcontrol-{int(target_id)}.sock"
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(5)
                s.connect(str(sock))
                s.sendall(b'{"command":"quit"}\n')
        except OSError:  # none running (no socket), or not ours to reach
            return False
        return True

    def delete_events(self, target_id: str) -> int:
        """Delete every event of the camera (files and rows); returns how many."""
        path = f"api/events/index/MonitorId:{int(target_id)}.json"
        ids: list[int] = []
        for page in range(1, _MAX_PAGES + 1):  # collect first: deleting shifts the pages
            body = self._json("delete_events", "GET", path, params={"page": page})
            ids += [int(r["Event"]["Id"]) for r in body["events"]]
            if page >= body["pagination"]["pageCount"]:
                break
        for event_id in ids:
            # It answers an empty 200 whether or not it deleted: callers check by listing.
            path = f"api/events/{event_id}.json"
            self._call("delete_events", "DELETE", path, params=self._auth()).close()
        return len(ids)

    # --- operators' actions ----------------------------------------------------------------
    def _zms(self, **params: Any) -> str:
        query = "&".join(
            f"{k}={quote(str(v), safe='')}" for k, v in {**params, **self._auth()}.items()
        )
        return f"{self.base_url}/cgi-bin/nph-zms?{query}"

    def live_view(self, target_id: str, seconds: float) -> StreamRead:
        url = self._zms(mode="jpeg", monitor=int(target_id), scale=100)
        return self._read_stream("live_view", url, seconds)

    def snapshot(self, target_id: str) -> bytes:
        """The first frame of the live stream: `mode=single` answers with no blank line
        after its headers (not HTTP; only lenient parsers take it)."""
        url = self._zms(mode="jpeg", monitor=int(target_id), scale=100)
        jpeg = self._still("snapshot", self._call("snapshot", "GET", url, stream=True))
        if not jpeg.startswith(b"\xff\xd8"):
            raise TargetError(
                f"zoneminder: snapshot of monitor {target_id}: no JPEG ({len(jpeg)} bytes)"
            )
        return jpeg

    def ptz(self, target_id: str, pan: float, tilt: float, zoom: float) -> None:
        raise self._unsupported(
            "ptz", "the 1.36 API has no move call; PTZ needs a control protocol on the monitor"
        )

    def events(self, target_id: str, since: datetime, until: datetime) -> list[RecordedSpan]:
        """Events overlapping [since, until]: the last one starting before `since` if it
        reaches into it, then those starting within (paged, at most 10,000)."""
        mid, lo, hi = int(target_id), quote(self._to_zm(since)), quote(self._to_zm(until))
        before = f"api/events/index/MonitorId:{mid}/StartDateTime%20%3C:{lo}.json"
        params = {"sort": "StartDateTime", "direction": "desc", "limit": 1}
        rows = self._json("events", "GET", before, params=params)["events"]
        out = [r for r in map(self._recording, rows) if r.end is None or r.end > since]
        within = f"api/events/index/MonitorId:{mid}/StartDateTime%20%3E=:{lo}"
        within += f"/StartDateTime%20%3C=:{hi}.json"
        for page in range(1, _MAX_PAGES + 1):
            body = self._json("events", "GET", within, params={"page": page})
            out += map(self._recording, body["events"])
            if page >= body["pagination"]["pageCount"]:
                break
        return out

    def _recording(self, row: dict[str, Any]) -> RecordedSpan:
        e = row["Event"]
        start = self._from_zm(e["StartDateTime"])
        assert start is not None
        return RecordedSpan(
            recording_id=str(e["Id"]),
            target_id=str(e["MonitorId"]),
            start=start,
            end=self._from_zm(e.get("EndDateTime")),
            frames=int(e.get("Frames") or 0),
            cause=e.get("Cause") or "",
            alarm_frames=int(e.get("AlarmFrames") or 0),
            duration_s=float(e["Length"]) if e.get("Length") is not None else None,
        )

    def _covering(self, target_id: str, start: datetime, duration_s: float) -> list[RecordedSpan]:
        found = self.events(target_id, start, start + timedelta(seconds=duration_s))
        if not found:
            raise TargetError(f"zoneminder: monitor {target_id} recorded nothing at {start}")
        return found

    def playback(
        self, target_id: str, start: datetime, duration_s: float, speed: float = 1.0
    ) -> StreamRead:
        """Stream the recording from `start` (following events gaplessly) at `speed`."""
        first = self._covering(target_id, start, duration_s)[0]
        offset = max(0.0, (start - first.start).total_seconds())
        length = first.length_s or offset + 1
        frame = 1 + int(offset * first.frames / length) if first.frames else 1
        url = self._zms(
            mode="jpeg", source="event", event=first.recording_id, frame=frame,
            rate=round(speed * 100), replay="gapless",
        )  # fmt: skip
        return self._read_stream("playback", url, duration_s / speed)

    def export(
        self, target_id: str, start: datetime, duration_s: float, out: BinaryIO | None = None
    ) -> StreamRead:
        """Download the video files of the events covering the span (whole events, one MP4
        each, written to `out` one after the other)."""
        t0, total, first = time.perf_counter(), 0, None
        covering = self._covering(target_id, start, duration_s)
        for rec in covering:
            url = f"{self.base_url}/index.php"
            params = {"view": "view_video", "eid": rec.recording_id, **self._auth()}
            got = self._read_stream(
                "export", url, 3600, MAX_STREAM_BYTES - total, out, params=params
            )
            total += got.bytes
            first = got.first_byte_s if first is None else first
        return StreamRead(total, len(covering), first, time.perf_counter() - t0, "video/mp4")

    def alarm(self, target_id: str, on: bool) -> None:
        """Force an alarm on (a new alarmed event) or cancel the forced alarm."""
        command = "on" if on else "off"
        path = f"api/monitors/alarm/id:{int(target_id)}/command:{command}.json"
        self._json("alarm", "GET", path)

    def alarm_state(self, target_id: str) -> int:
        """zmu's state: 0 idle, 1 prealarm, 2 alarm, 3 alert, 4 recording (tape)."""
        path = f"api/monitors/alarm/id:{int(target_id)}/command:status.json"
        status = self._json("alarm", "GET", path).get("status")
        try:
            return int(status)
        except (TypeError, ValueError):  # zmu not attached yet answers with text
            what = f"monitor {target_id}: status {status!r}"
            raise TargetError(f"zoneminder: alarm: {what}") from None

    def acknowledge(self, target_id: str) -> None:
        """ZoneMinder has no acknowledgement: the operator cancels the forced alarm."""
        path = f"api/monitors/alarm/id:{int(target_id)}/command:off.json"
        self._json("acknowledge", "GET", path)
