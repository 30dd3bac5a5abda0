"""Synthetic street scenes drawn with OpenCV: a background, moving objects, light, noise, overlay.

A scene is periodic: every object comes back to where it started after `frames` frames, so an
encoded loop of it joins without a visible jump. Everything is drawn from one seed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

#: Moving objects in the frame at once, by the camera group's activity.
OBJECTS = {"low": 3, "medium": 8, "high": 16}
#: Texture detail of the background, by the group's scene complexity.
DETAIL = {"simple": 6, "normal": 20, "complex": 48}


@dataclass(frozen=True)
class SceneSpec:
    """What to draw: size, rate, length, street profile, lighting and the overlay's label."""

    width: int
    height: int
    fps: float
    frames: int
    scene: str = "normal"  # simple | normal | complex
    activity: str = "medium"  # low | medium | high
    night: bool = False
    label: str = "camsim"
    seed: int = 0


def _background(spec: SceneSpec, rng: np.random.Generator) -> np.ndarray:
    import cv2

    w, h = spec.width, spec.height
    img = np.zeros((h, w, 3), np.uint8)
    horizon = int(h * 0.45)
    img[:horizon] = (200, 170, 140)  # sky (BGR)
    img[horizon:] = (90, 90, 90)  # road
    cv2.rectangle(img, (0, horizon), (w, horizon + h // 12), (150, 150, 140), -1)  # pavement
    for _ in range(DETAIL[spec.scene]):  # buildings and street furniture
        x0 = int(rng.integers(0, w))
        bw = int(rng.integers(w // 30 + 1, w // 6 + 2))
        top = int(rng.integers(h // 12, horizon))
        colour = tuple(int(c) for c in rng.integers(40, 220, 3))
        cv2.rectangle(img, (x0, top), (x0 + bw, horizon), colour, -1)
        for wy in range(top + 4, horizon - 4, max(4, h // 40)):  # windows
            for wx in range(x0 + 3, x0 + bw - 3, max(4, w // 80)):
                if rng.random() < 0.5:
                    cv2.rectangle(img, (wx, wy), (wx + 2, wy + 2), (230, 230, 200), -1)
    lane_y = (horizon + h) // 2
    for x in range(0, w, max(8, w // 16)):
        cv2.rectangle(
            img, (x, lane_y), (x + w // 40 + 2, lane_y + max(1, h // 150)), (240,) * 3, -1
        )
    return img


@dataclass(frozen=True)
class _Mover:
    y: int
    size: int
    laps: int  # whole laps per loop: keeps the scene periodic
    x0: float
    colour: tuple[int, int, int]
    person: bool


def _movers(spec: SceneSpec, rng: np.random.Generator) -> list[_Mover]:
    h = spec.height
    horizon = int(h * 0.45)
    out = []
    for _ in range(OBJECTS[spec.activity]):
        person = bool(rng.random() < 0.4)
        y = (
            int(rng.integers(horizon, horizon + h // 12))
            if person
            else int(rng.integers(horizon + h // 10, h - h // 10))
        )
        size = max(3, int(h * (0.05 if person else 0.1) * rng.uniform(0.7, 1.3)))
        laps = int(rng.integers(1, 3)) * (1 if rng.random() < 0.5 else -1)
        colour = tuple(int(c) for c in rng.integers(20, 255, 3))
        out.append(_Mover(y, size, laps, float(rng.uniform(0, 1)), colour, person))
    return out


def render(spec: SceneSpec) -> Iterator[np.ndarray]:
    """Yield `spec.frames` BGR frames (height × width × 3, uint8) of the scene."""
    import cv2

    rng = np.random.default_rng(spec.seed)
    bg = _background(spec, rng)
    movers = _movers(spec, rng)
    w, h = spec.width, spec.height
    span = w + 2 * h // 5
    light = 0.35 if spec.night else 1.0
    sigma = 14.0 if spec.night else 4.0
    noise = np.empty((h, w, 3), np.int16)
    font_scale = max(0.3, h / 720)
    thick = max(1, h // 360)
    for i in range(spec.frames):
        img = bg.copy()
        phase = i / spec.frames
        for m in movers:
            x = int((m.x0 + m.laps * phase) % 1.0 * span) - h // 5
            if m.person:
                cv2.ellipse(img, (x, m.y), (m.size // 4, m.size // 2), 0, 0, 360, m.colour, -1)
            else:
                cv2.rectangle(img, (x, m.y), (x + 2 * m.size, m.y + m.size), m.colour, -1)
                if spec.night:
                    cv2.circle(
                        img,
                        (x + 2 * m.size, m.y + m.size // 2),
                        max(2, m.size // 5),
                        (200, 255, 255),
                        -1,
                    )
        if spec.night:
            img = cv2.convertScaleAbs(img, alpha=light)
        cv2.randn(noise, 0, sigma)
        img = cv2.add(img, noise, dtype=cv2.CV_8U)
        seconds = i / spec.fps
        text = f"{spec.label}  {int(seconds // 60):02d}:{seconds % 60:05.2f}"
        cv2.putText(
            img,
            text,
            (8, int(24 * font_scale) + 4),
            cv2.FONT_HERSHEY_SIMPLEX,
            font_scale,
            (255, 255, 255),
            thick,
            cv2.LINE_AA,
        )
        yield img
