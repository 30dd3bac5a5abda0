"""Cameras: the scenario's camera groups expanded into one row per camera.

Bitrates follow the typical vendor calculator in REFERENCE.md: H.264 at 15 fps and medium
activity needs about 2 Mbps per megapixel, scaled by fps/15; H.265 saves 35 % (AxxonSoft);
MJPEG needs about 8x H.264 (assumption). A complex scene needs 3x a simple one (IPVM 2016):
simple 0.5, normal 1, complex 1.5. Low/medium/high activity multiply by 0.6/1.0/1.4.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from simulator.scenario.cameras import CameraGroup, parse_resolution
from simulator.scenario.schema import Scenario

MBPS_PER_MEGAPIXEL_AT_15FPS = 2.0
CODEC_FACTOR = {"h264": 1.0, "h265": 0.65, "mjpeg": 8.0}
SCENE_FACTOR = {"simple": 0.5, "normal": 1.0, "complex": 1.5}
#: Scales the city's hourly activity (0..1) for a camera's street: quiet, ordinary, busy.
ACTIVITY_SCALE = {"low": 0.5, "medium": 1.0, "high": 1.5}
SUB_STREAM_SHARE = 0.1  # a sub-stream is about 1/10 of the main stream (Hanwha/Nx)


def ladder_mbps(resolution: str, fps: float, codec: str) -> float:
    """Typical main-stream bitrate of a normal scene at medium activity."""
    width, height = parse_resolution(resolution)
    return MBPS_PER_MEGAPIXEL_AT_15FPS * width * height / 1e6 * fps / 15 * CODEC_FACTOR[codec]


def activity_bitrate_factor(activity: np.ndarray) -> np.ndarray:
    """Activity 0..1 → bitrate multiplier 0.6 (quiet) .. 1.0 (medium, 0.5) .. 1.4 (busy)."""
    factor = 0.8 * activity
    factor += 0.6  # in place: one temporary less over a chunk
    return factor


def group_target_mbps(group: CameraGroup) -> float:
    """Mean main-stream bitrate of a camera of this group at medium activity."""
    base = group.bitrate.target_mbps
    if base is None:
        base = ladder_mbps(group.resolution, group.fps, group.codec)
    return base * SCENE_FACTOR[group.scene]


def camera_id(group: CameraGroup, index: int) -> str:
    """Stable camera id: group name and a 1-based number, e.g. `centre-dome-007`."""
    return f"{group.name}-{index + 1:03d}"


@dataclass(frozen=True)
class CameraTable:
    """Per-camera parameters as arrays, one entry per camera, in scenario order."""

    ids: list[str]
    group: np.ndarray  # int, index into scenario.cameras
    district: np.ndarray  # int, index into scenario.network.districts
    fps: np.ndarray
    gop: np.ndarray  # frames per GOP
    b_frames: np.ndarray  # int, B-frames between the GOP's reference frames
    i_to_p: np.ndarray  # I-frame / P-frame mean size
    b_to_p: np.ndarray  # B-frame / P-frame mean size
    codec: list[str]
    main_mbps: np.ndarray  # mean main-stream rate at medium activity
    cap_mbps: np.ndarray  # VBR peak cap (== main_mbps for CBR)
    cbr: np.ndarray  # bool
    sub_mbps: np.ndarray  # 0 when there is no sub-stream
    sub_fps: np.ndarray
    activity_scale: np.ndarray
    night_factor: np.ndarray
    recording: np.ndarray  # 0 off, 1 continuous, 2 motion
    pre_s: np.ndarray
    post_s: np.ndarray
    motion_per_h: np.ndarray
    motion_mean_s: np.ndarray
    mtbf_h: np.ndarray
    mttr_h: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)

    def take(self, rows: np.ndarray) -> CameraTable:
        """The table of these cameras only (rows: indices, in the order given)."""
        values = {}
        for f in fields(self):
            v = getattr(self, f.name)
            values[f.name] = [v[i] for i in rows] if isinstance(v, list) else v[rows]
        return CameraTable(**values)


RECORDING_MODES = {"off": 0, "continuous": 1, "motion": 2}


def camera_table(scenario: Scenario) -> CameraTable:
    """Expand the scenario's camera groups into a CameraTable."""
    district_index = {d.name: i for i, d in enumerate(scenario.network.districts)}
    groups = scenario.cameras
    counts = np.array([g.count for g in groups])

    def per_camera(values: list[float], dtype: type = float) -> np.ndarray:
        return np.repeat(np.asarray(values, dtype=dtype), counts)

    main = [group_target_mbps(g) for g in groups]
    sub = [
        0.0 if not g.sub_stream.enabled else (g.sub_stream.bitrate_mbps or SUB_STREAM_SHARE * m)
        for g, m in zip(groups, main, strict=True)
    ]
    cbr = [g.bitrate.mode == "cbr" for g in groups]
    cap = [m if c else m * g.bitrate.cap_factor for g, m, c in zip(groups, main, cbr, strict=True)]
    return CameraTable(
        ids=[camera_id(g, i) for g in groups for i in range(g.count)],
        group=per_camera(list(range(len(groups))), int),
        district=per_camera([district_index[g.district] for g in groups], int),
        fps=per_camera([g.fps for g in groups]),
        gop=per_camera([g.gop for g in groups], int),
        b_frames=per_camera([g.gop_structure.b_frames for g in groups], int),
        i_to_p=per_camera([g.gop_structure.i_to_p for g in groups]),
        b_to_p=per_camera([g.gop_structure.b_to_p for g in groups]),
        codec=[g.codec for g in groups for _ in range(g.count)],
        main_mbps=per_camera(main),
        cap_mbps=per_camera(cap),
        cbr=per_camera(cbr, bool),
        sub_mbps=per_camera(sub),
        sub_fps=per_camera([g.sub_stream.fps for g in groups]),
        activity_scale=per_camera([ACTIVITY_SCALE[g.activity] for g in groups]),
        night_factor=per_camera([g.night.bitrate_factor for g in groups]),
        recording=per_camera([RECORDING_MODES[g.recording.mode] for g in groups], int),
        pre_s=per_camera([g.recording.pre_s for g in groups]),
        post_s=per_camera([g.recording.post_s for g in groups]),
        motion_per_h=per_camera([g.recording.motion_episodes_per_h for g in groups]),
        motion_mean_s=per_camera([g.recording.motion_mean_s for g in groups]),
        mtbf_h=per_camera([g.reliability.mtbf_h for g in groups]),
        mttr_h=per_camera([g.reliability.mttr_h for g in groups]),
    )
