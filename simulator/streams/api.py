"""The HTTP control and measurement API, on the same event loop as the cameras.

GET /api/cameras                  cameras, stream URLs, state, clients, active faults
POST /api/cameras/{id}/faults     inject a fault now: {"kind": "stream_freeze", "duration_s": 5}
GET /api/timeline                 simulated time now, speed, the next events, the last applied
POST /api/timeline/start          start the replay (camsim serve --wait-start waits for it)
GET /api/health                   200 once every stream can be served, else 503
GET /api/onvif/ptz                the PTZ commands the cameras received (serve --onvif: ptz_log)
GET /metrics                      Prometheus text: per camera and total clients, frames and
                                  bytes sent, drops, faults active, send lateness
One bounded request per connection (`streams/http.py`). Every request but GET and HEAD needs
credentials (ApiAuth: serve's --user/--password as HTTP Basic, or the bearer token on its
ready line), and so do reads unless the API listens on a loopback address: 401 otherwise.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

from simulator.streams.applier import fault_event
from simulator.streams.http import BODY_SHAPE, ApiAuth, OneRequest, json_params, one_line
from simulator.streams.output import unsent_bytes
from simulator.streams.records import CameraRow, StreamRow

if TYPE_CHECKING:
    from simulator.streams.server import CameraServer


def cameras_json(server: CameraServer) -> list[dict[str, Any]]:
    """What GET /api/cameras returns: a CameraRow (records.py) per camera, as JSON."""
    now = asyncio.get_running_loop().time()
    out = []
    for p in server.plans:
        state = server.states[p.id]
        streams = {}
        for name in p.streams:
            s = server.streams[f"{p.id}/{name}"]
            night = s.loop is s.night  # the loop on the wire now, its rate and its target
            spec = p.streams[name][night]
            streams[name] = StreamRow(
                url=server.url(p.id, name),
                codec=s.clip.codec,
                width=s.clip.width,
                height=s.clip.height,
                fps=s.clip.fps,
                bitrate_mbps=round((s.night if night else s.day).clip.bitrate_bps / 1e6, 3),
                target_mbps=round(spec.target_bps / 1e6, 3),
                clients=sum(1 for c in s.clients if c.playing),
                frames_sent=s.counters.frames_sent,
                bytes_sent=s.counters.bytes_sent,
                frames_due=s.counters.frames_due,
                late_skips=s.counters.late_skips,
                fault_drops=s.counters.fault_drops,
                target_drops=s.counters.target_drops,
                unsent_bytes=unsent_bytes(s.clients),
                keyframe_wait_skips=s.counters.keyframe_wait_skips,
            )
        row = CameraRow(
            id=p.id,
            district=p.district,
            state="offline" if state.offline else "online",
            night=state.night,
            faults=state.active(now),
            streams=streams,
        )
        out.append(row.to_dict())
    return out


def timeline_json(server: CameraServer) -> dict[str, Any]:
    """What GET /api/timeline returns: where the replay is, what comes next, what was applied
    (the last APPLIED_KEPT events, with the Unix time each was applied)."""
    replay = server.replay
    clock = replay.clock
    started = replay.started
    now = asyncio.get_running_loop().time()
    return {
        "started": started,
        "speed": clock.speed,
        "start_at_s": clock.start_at,
        "sim_time_s": round(clock.sim_at(now), 3) if started else None,
        "events_total": len(replay.events),
        "events_applied": replay.next_index,
        "next": [json.loads(e.to_json()) for e in replay.upcoming()],
        "applied_total": server.faults.total,
        "applied": [
            {
                "seq": a.seq,
                "wall": round(a.wall, 3),
                "until": a.until and round(a.until, 3),
                **json.loads(a.event.to_json()),
            }
            for a in server.faults.applied
        ],  # fmt: skip
    }


def metrics_text(server: CameraServer) -> str:
    """What GET /metrics returns (Prometheus text format 0.0.4)."""
    now = asyncio.get_running_loop().time()
    lines = []
    ctr = "counter"
    per = [
        ("camsim_stream_clients", "gauge", "playing clients",
         lambda s: sum(c.playing for c in s.clients)),
        ("camsim_stream_frames_sent_total", ctr, "frames sent", lambda s: s.counters.frames_sent),
        ("camsim_stream_bytes_sent_total", ctr, "bytes sent, all clients",
         lambda s: s.counters.bytes_sent),
        ("camsim_stream_client_drops_total", ctr, "frames a slow client missed",
         lambda s: s.counters.client_drops),
        ("camsim_stream_fault_drops_total", ctr, "frames withheld by faults",
         lambda s: s.counters.fault_drops),
        ("camsim_stream_keyframe_wait_skips_total", ctr,
         "frames skipped before the keyframe a started stream opens with",
         lambda s: s.counters.keyframe_wait_skips),
        ("camsim_stream_target_drops_total", ctr,
         "frames a client missed because it stopped reading (the target's loss)",
         lambda s: s.counters.target_drops),
        ("camsim_stream_late_skips_total", ctr,
         "frames skipped because the server fell behind (its own lateness)",
         lambda s: s.counters.late_skips),
        ("camsim_stream_send_lateness_seconds_total", ctr, "sum of frame send lateness",
         lambda s: round(s.counters.lateness_sum, 6)),
    ]  # fmt: skip
    for name, kind, text, fn in per:
        lines += [f"# HELP {name} {text}", f"# TYPE {name} {kind}"]
        total = 0
        for s in server.streams.values():
            v = fn(s)
            total += v
            lines.append(f'{name}{{camera="{s.camera}",stream="{s.name}"}} {v}')
        lines.append(f'{name}{{camera="all",stream="all"}} {total}')
    lines += [
        "# HELP camsim_stream_send_lateness_max_seconds worst frame send lateness",
        "# TYPE camsim_stream_send_lateness_max_seconds gauge",
    ]
    for s in server.streams.values():
        lines.append(
            f'camsim_stream_send_lateness_max_seconds{{camera="{s.camera}",stream="{s.name}"}} '
            f"{s.counters.lateness_max:.6f}"
        )
    lines += [
        "# HELP camsim_camera_faults_active faults in effect",
        "# TYPE camsim_camera_faults_active gauge",
    ]
    for cid, st in server.states.items():
        lines.append(f'camsim_camera_faults_active{{camera="{cid}"}} {len(st.active(now))}')
    lines += [
        "# HELP camsim_timeline_events_total events applied",
        "# TYPE camsim_timeline_events_total counter",
    ]
    for kind, n in sorted(server.faults.counts.items()):
        lines.append(f'camsim_timeline_events_total{{kind="{kind}"}} {n}')
    lines += [
        "# HELP camsim_sessions RTSP sessions",
        "# TYPE camsim_sessions gauge",
        f"camsim_sessions {len(server.rtsp.sessions)}",
        "# HELP camsim_frame_send_lateness_seconds frame send time after its due time",
        "# TYPE camsim_frame_send_lateness_seconds histogram",
        *server.pacer.lateness.lines("camsim_frame_send_lateness_seconds"),
        *server.probe.lines(),  # the event loop's stalls by cause (streams/stalls.py)
    ]
    return "\n".join(lines) + "\n"


class _Http(OneRequest):
    """A request to the control API."""

    def __init__(self, server: CameraServer, auth: ApiAuth) -> None:
        super().__init__(auth)
        self.server = server

    def route(self, method: str, path: str, body: bytes) -> tuple[int, Any]:
        """The answer to a whole request (raises ValueError for a bad body: 400)."""
        parts = [p for p in path.split("/") if p]
        if parts == ["metrics"] and method == "GET":
            return 200, metrics_text(self.server)
        if parts == ["api", "cameras"] and method == "GET":
            return 200, cameras_json(self.server)
        if parts == ["api", "timeline"] and method == "GET":
            return 200, timeline_json(self.server)
        if parts == ["api", "timeline", "start"] and method == "POST":
            if json_params(body):
                raise ValueError("POST /api/timeline/start takes no parameters: {} or no body")
            started = self.server.replay.started
            self.server.start_replay()
            return 202, {"started": True, "already": started}
        if parts == ["api", "onvif", "ptz"] and method == "GET":  # set by onvif/server.py
            ptz = self.server.onvif_ptz
            return (200, ptz.to_json()) if ptz is not None else (404, {"error": "no --onvif"})
        if parts == ["api", "health"] and method == "GET":
            ready = self.server.ready
            body = {"ready": ready, "cameras": len(self.server.plans),
                    "streams": len(self.server.streams)}  # fmt: skip
            return (200 if ready else 503), body
        if len(parts) == 4 and parts[:2] == ["api", "cameras"] and parts[3] == "faults":
            if method != "POST":
                return 405, {"error": "use POST"}
            return self._fault(parts[2], body)
        return 404, {"error": "not found"}

    def _fault(self, cam: str, body: bytes) -> tuple[int, Any]:
        """POST /api/cameras/{cam}/faults."""
        if cam not in self.server.states:
            return 404, {"error": one_line(f"no camera {cam[:40]!r} here")}
        data = json_params(body)
        if not isinstance(data.get("kind"), str):
            raise ValueError(f'no "kind": expected {BODY_SHAPE}')
        district = self.server.faults.district_of[cam]
        event = fault_event(data["kind"], cam, district, data)
        refused = self.server.faults.refuse(event)
        if refused:
            raise ValueError(refused)
        self.server.inject(event)
        return 202, {"camera": cam, "kind": event.kind, "params": event.params}


async def start_api(
    server: CameraServer, host: str, port: int, auth: ApiAuth
) -> tuple[asyncio.AbstractServer, int]:
    """Listen for the control API; returns the server and its port."""
    loop = asyncio.get_running_loop()
    srv = await loop.create_server(lambda: _Http(server, auth), host, port, reuse_address=True)
    return srv, srv.sockets[0].getsockname()[1]
