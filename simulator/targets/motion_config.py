"""A motion 4.5 configuration recording RTSP cameras continuously, local only.

One `motion.conf` with the webcontrol (text interface) and the streams bound to localhost, and
one camera file per camera: RTSP over TCP, passthrough movies of `movie_s` seconds,
`emulate_motion on` so that it records all the time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class MotionCamera:
    """One camera for motion: its id (a positive integer), its RTSP URL and picture size, and
    its name (default `cam<id>`)."""

    camera_id: int
    url: str
    width: int
    height: int
    fps: float
    name: str = ""


@dataclass(frozen=True)
class MotionConfig:
    """What `write` puts in a directory for `motion -n -c <dir>/motion.conf`."""

    cameras: list[MotionCamera]
    webcontrol_port: int
    stream_port: int
    movie_s: int = 60
    log_level: int = 6  # notices: connections, new movies, lost cameras
    extra: dict[str, str] = field(default_factory=dict)  # more motion.conf options

    def write(self, directory: Path) -> Path:
        """Write motion.conf, camera-N.conf, movies/ and motion.log there; returns motion.conf."""
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "movies").mkdir(exist_ok=True)
        main = {
            "daemon": "off",
            "setup_mode": "off",
            "log_level": str(self.log_level),
            "log_file": str(directory / "motion.log"),
            "target_dir": str(directory / "movies"),
            "webcontrol_port": str(self.webcontrol_port),
            "webcontrol_localhost": "on",
            "webcontrol_interface": "1",  # plain text answers
            "webcontrol_parms": "2",  # config list/get/set of the usual options
            "stream_port": str(self.stream_port),
            "stream_localhost": "on",
            **self.extra,
        }
        lines = [f"{k} {v}" for k, v in main.items()]
        for cam in self.cameras:
            path = directory / f"camera-{cam.camera_id}.conf"
            path.write_text(_lines(camera_options(cam, self.movie_s)), encoding="utf-8")
            lines.append(f"camera {path}")
        conf = directory / "motion.conf"
        conf.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return conf


def camera_options(cam: MotionCamera, movie_s: int) -> dict[str, str]:
    """A camera's options: continuous passthrough movies named `<id>-<start time>.mp4`."""
    return {
        "camera_id": str(cam.camera_id),
        "camera_name": cam.name or f"cam{cam.camera_id}",
        "netcam_url": cam.url,
        "netcam_params": "rtsp_transport=tcp",
        # motion scales its own pictures (snapshots, live view) to this size; movies keep the
        # camera's picture with passthrough.
        "width": str(cam.width),
        "height": str(cam.height),
        "framerate": f"{cam.fps:g}",
        "stream_maxrate": f"{cam.fps:g}",  # default 1 frame a second
        "movie_output": "on",
        "movie_passthrough": "on",
        "movie_max_time": str(movie_s),
        "movie_filename": f"{cam.camera_id}-%Y%m%d%H%M%S",
        "emulate_motion": "on",
        "picture_output": "off",
        "event_gap": "1",
    }


def _lines(options: dict[str, str]) -> str:
    return "".join(f"{k} {v}\n" for k, v in options.items())
