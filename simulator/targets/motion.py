"""motion 4.5 as a target: its webcontrol (text interface), its streams, its movies on disk.

motion's cameras come from its configuration (see `motion_config`): they cannot be added or
removed while it runs. Its recordings are the movie files in its target directory, read with
ffprobe; its log file says what it noticed. Quirks: the webcontrol answers 200 to a bad request
("Bad Request" in the body); each passthrough movie starts with the ~2 s of packets motion had
buffered, so consecutive movies overlap and the first packets are squeezed to ~11 fps.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections import deque
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

from simulator.targets.base import (
    MAX_STREAM_BYTES,
    HttpClient,
    RecordedSpan,
    StreamRead,
    Target,
    TargetCamera,
    TargetError,
)

_MOVIE = re.compile(r"^(\d+)-(\d{14})\.(mp4|mkv|avi|mov)$")
_LOG_TIME = re.compile(r"\[(\w{3} \d{2} \d{2}:\d{2}:\d{2})\]")
# A movie's video starts before the time in its name by the packets motion had buffered.
_BUFFERED = timedelta(seconds=10)
_LOG_TAIL_BYTES = 1 << 20  # log_lines reads at most the last MiB of the log


class Motion(Target):
    """A running motion; `base_url` is its webcontrol, `stream_url` its stream port."""

    kind = "motion"

    def __init__(
        self,
        client: HttpClient,
        base_url: str,
        stream_url: str,
        movies_dir: Path | None = None,
        log_file: Path | None = None,
        user: str | None = None,
        password: str | None = None,
    ) -> None:
        super().__init__(client, base_url, user, password)
        self.stream_url = stream_url.rstrip("/")
        self.movies_dir = movies_dir
        self.log_file = log_file

    def _text(self, name: str, path: str) -> str:
        auth = (self.user, self.password or "") if self.user is not None else None
        text = self._call(name, "GET", path, auth=auth).text
        if text.lstrip().startswith("Bad Request"):  # answered with status 200
            raise TargetError(f"motion: {name}: {path}: Bad Request")
        return text

    # --- state -----------------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        first = self._text("health", "").splitlines()[0]
        m = re.match(r"Motion (\S+) Running \[(\d+)\] Camera", first)
        if not m:
            raise TargetError(f"motion: health: unexpected answer {first!r}")
        return {"version": m.group(1), "cameras": int(m.group(2))}

    def list_cameras(self) -> list[TargetCamera]:
        ids = [ln.strip() for ln in self._text("list_cameras", "").splitlines()[1:] if ln.strip()]
        out = []
        for cid in ids:
            conn = self._text("list_cameras", f"{cid}/detection/connection")
            m = re.search(r"Camera \d+ -- (.*) Connection (\w+)", conn)
            detection = self._text("list_cameras", f"{cid}/detection/status").split()[-1]
            out.append(
                TargetCamera(
                    target_id=cid,
                    name=m.group(1) if m else cid,
                    url=self.config_get(cid, "netcam_url"),
                    enabled=detection == "ACTIVE",
                    status=m.group(2) if m else conn.strip(),
                )
            )
        return out

    def log_lines(self, since: datetime) -> list[str]:
        """motion's log file since then (its times have no year: this year, UTC)."""
        if self.log_file is None:
            raise self._unsupported("log_lines", "no log_file given")
        with self.log_file.open("rb") as f:
            f.seek(max(0, f.seek(0, 2) - _LOG_TAIL_BYTES))
            text = f.read().decode("utf-8", "replace")
        since = (since if since.tzinfo else since.replace(tzinfo=UTC)).replace(microsecond=0)
        lines: deque[str] = deque(maxlen=10_000)
        for line in text.splitlines():
            m = _LOG_TIME.search(line)
            if m is None:
                continue
            t = datetime.strptime(f"{since.year} {m.group(1)}", "%Y %b %d %H:%M:%S")
            if t.replace(tzinfo=UTC) >= since:
                lines.append(line)
        return list(lines)

    # --- motion's own controls -------------------------------------------------------------
    def config_list(self, target_id: str) -> dict[str, str]:
        text = self._text("config", f"{int(target_id)}/config/list")
        pairs = (ln.split(" = ", 1) for ln in text.splitlines() if " = " in ln)
        return {k.strip(): v.strip() for k, v in pairs}

    def config_get(self, target_id: str, option: str) -> str:
        text = self._text("config", f"{int(target_id)}/config/get?query={option}")
        for line in text.splitlines():
            if line.strip().startswith(f"{option} = "):
                return line.split(" = ", 1)[1].strip()
        raise TargetError(f"motion: config_get {option}: not in the answer {text[:100]!r}")

    def config_set(self, target_id: str, option: str, value: str) -> None:
        self._text("config", f"{int(target_id)}/config/set?{option}={value}")

    def detection_status(self, target_id: str) -> str:
        """ACTIVE or PAUSE."""
        return self._text("detection", f"{int(target_id)}/detection/status").split()[-1]

    def detection(self, target_id: str, on: bool) -> None:
        self._text("detection", f"{int(target_id)}/detection/{'start' if on else 'pause'}")

    # --- operators' actions ----------------------------------------------------------------
    def live_view(self, target_id: str, seconds: float) -> StreamRead:
        return self._read_stream("live_view", f"{self.stream_url}/{int(target_id)}/stream", seconds)

    def snapshot(self, target_id: str) -> bytes:
        resp = self._call("snapshot", "GET", f"{self.stream_url}/{int(target_id)}/current")
        if not resp.content.startswith(b"\xff\xd8"):
            raise TargetError(f"motion: snapshot of camera {target_id}: no JPEG")
        return resp.content

    def ptz(self, target_id: str, pan: float, tilt: float, zoom: float) -> None:
        raise self._unsupported("ptz", "motion tracks only cameras with a track_type")

    def alarm(self, target_id: str, on: bool) -> None:
        """Start (or end) an event, as motion's own detection would."""
        self._text("alarm", f"{int(target_id)}/action/{'eventstart' if on else 'eventend'}")

    def events(self, target_id: str, since: datetime, until: datetime) -> list[RecordedSpan]:
        """The camera's movie files overlapping [since, until]. A movie holds `duration` s of
        video that starts `lead` s before the time in its name (motion's buffered packets);
        `lead` is measured on the camera's movies that motion closed as it wrote their last
        packet (file time = start + duration). A movie closed late (motion kept it open after
        the camera stopped) ends `duration` after its start; the one being written has no end."""
        if self.movies_dir is None:
            raise self._unsupported("events", "no movies_dir given")
        since, until = (t if t.tzinfo else t.replace(tzinfo=UTC) for t in (since, until))
        movies = []
        for path in sorted(p for p in self.movies_dir.iterdir() if _is_movie(p, target_id)):
            named = datetime.strptime(_MOVIE.match(path.name).group(2), "%Y%m%d%H%M%S")  # type: ignore[union-attr]
            named = named.replace(tzinfo=UTC)
            if named - _BUFFERED > until:
                continue
            written = datetime.fromtimestamp(path.stat().st_mtime, UTC)
            if written < since:
                continue
            movies.append((path, named, written, _probe(path)))
        leads = sorted(
            (named - (written - timedelta(seconds=p[0]))).total_seconds()
            for _, named, written, p in movies
            if p is not None and abs((written - named).total_seconds() - p[0]) <= _BUFFERED.seconds
        )
        lead = timedelta(seconds=min(max(leads[len(leads) // 2], 0.0), _BUFFERED.seconds)
                         if leads else 0.0)  # fmt: skip
        out = []
        for path, named, written, probed in movies:
            if probed is None:  # no index: being written (or motion died writing it)
                if named <= until:
                    out.append(RecordedSpan(path.name, target_id, named - lead, None, 0))
                continue
            duration, frames = probed
            start = named - lead
            end = min(written, start + timedelta(seconds=duration))
            if start > until or end < since:
                continue
            out.append(RecordedSpan(path.name, target_id, start, end, frames, duration_s=duration))
        return out

    def export(
        self, target_id: str, start: datetime, duration_s: float, out: BinaryIO | None = None
    ) -> StreamRead:
        """Copy the closed movies covering the span (local files, not HTTP)."""
        t0, n, parts = time.perf_counter(), 0, 0
        for rec in self.events(target_id, start, start + timedelta(seconds=duration_s)):
            if rec.end is None or self.movies_dir is None:
                continue
            with (self.movies_dir / rec.recording_id).open("rb") as f:
                while n < MAX_STREAM_BYTES and (
                    chunk := f.read(min(1 << 20, MAX_STREAM_BYTES - n))
                ):
                    n += len(chunk)
                    if out is not None:
                        out.write(chunk)
            parts += 1
        if not parts:
            raise TargetError(f"motion: export: no closed movie of camera {target_id} at {start}")
        return StreamRead(n, parts, None, time.perf_counter() - t0, "video/mp4")


def _is_movie(path: Path, target_id: str) -> bool:
    m = _MOVIE.match(path.name)
    return m is not None and m.group(1) == str(int(target_id))


def _probe(path: Path) -> tuple[float, int] | None:
    """(duration in seconds, video packets) of a movie by ffprobe; None if it has no index."""
    run = subprocess.run(
        ["ffprobe", "-v", "error", "-count_packets", "-select_streams", "v:0",
         "-show_entries", "format=duration:stream=nb_read_packets", "-of", "json", str(path)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    try:
        info = json.loads(run.stdout)
        return float(info["format"]["duration"]), int(info["streams"][0]["nb_read_packets"])
    except (ValueError, KeyError, IndexError):
        return None
