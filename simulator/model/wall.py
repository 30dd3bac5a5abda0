"""The video wall: which operator shows which camera on which monitor when, and when each
operator is free to look (busy, on a staggered break, vigilance after 30 minutes on task).

The cameras are shared out among the operators on duty that hour (camera i to operator
i mod k); each operator tours their cameras on `monitors_each` monitors, `dwell_s` each.
`simulator.model.operators` runs the incidents and requests past it.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np

from simulator.model.incidents import HOUR
from simulator.scenario.watch import Operators

VIGILANT_MIN = 30.0  # detection falls notably after about 30 minutes on task (Mackworth 1948)


@dataclass
class Tour:
    """Where a camera is on the wall under the current rota."""

    operator: int
    slot: int  # its turn on its monitor
    cycle_s: float  # one round of its monitor


class Wall:
    """The video wall: which operator shows which camera when, and who is free to look."""

    def __init__(self, ops: Operators, cameras: int, start: dt.datetime) -> None:
        self.ops = ops
        self.cameras = cameras
        self.first_hour = start.hour  # clock hour of the run's first (partial) hour
        self.offset_s = start.minute * 60.0 + start.second  # run start after that hour began
        staff = max(1, max(ops.on_duty))
        self.rota = list(ops.on_duty)  # by clock hour (a list: read hundreds of thousands of times)
        self.busy_until = [0.0] * staff
        self.handling_s = 0.0
        self.cycle_s = (ops.break_every_min + ops.break_min) * 60.0  # work, then a break
        # stagger the operators' breaks so that they do not all leave at once
        self.break_offset = [k * self.cycle_s / staff for k in range(staff)]
        self.work_s = ops.break_every_min * 60.0 if ops.break_min > 0 else float("inf")

    def _hour(self, t: float) -> int:
        """Clock hours since the run's first hour began."""
        return int((t + self.offset_s) // HOUR)

    def on_duty(self, t: float) -> int:
        return self.rota[(self.first_hour + int((t + self.offset_s) // HOUR)) % 24]

    def rota_end(self, t: float) -> float:
        """The next time after t at which the number on duty changes (inf if it never does)."""
        j = self._hour(t)
        now = self.on_duty(t)
        for ahead in range(1, 25):
            if self.ops.on_duty[(self.first_hour + j + ahead) % 24] != now:
                return (j + ahead) * HOUR - self.offset_s
        return float("inf")

    def tour(self, camera: int, t: float) -> Tour | None:
        k = self.on_duty(t)
        if k == 0:
            return None
        op = camera % k
        mine = (self.cameras - op + k - 1) // k  # cameras of this operator
        rank = camera // k
        m = self.ops.monitors_each
        monitor = rank % m
        on_monitor = (mine - monitor + m - 1) // m
        return Tour(op, rank // m, on_monitor * self.ops.dwell_s)

    def next_on_screen(self, camera: int, t: float) -> tuple[float, float, int | None]:
        """(from, until, operator) of the camera's next time on screen at or after t; if
        nobody is on duty, (the next rota change, same, None)."""
        while True:
            tour = self.tour(camera, t)
            end = self.rota_end(t)
            if tour is None:
                return end, end, None
            d = self.ops.dwell_s
            q = math.floor((t - tour.slot * d) / tour.cycle_s)
            shown = tour.slot * d + q * tour.cycle_s
            if t >= shown + d:
                shown += tour.cycle_s
            start = max(t, shown)
            if start < end:
                return start, min(shown + d, end), tour.operator
            t = end

    def _on_task_s(self, op: int, t: float) -> float:
        """Seconds since the operator came back from a break (or since the run began)."""
        if self.ops.break_min <= 0:
            return t
        return (t + self.break_offset[op]) % self.cycle_s

    def free_from(self, op: int, t: float) -> float:
        """The first time at or after t at which the operator is neither busy nor on a break."""
        busy = self.busy_until[op]
        if busy > t:
            t = busy
        if self.work_s == float("inf"):  # no breaks
            return t
        on_task = (t + self.break_offset[op]) % self.cycle_s
        return t if on_task < self.work_s else t + self.cycle_s - on_task

    def take(self, op: int, t: float) -> tuple[int, float]:
        """(who, when) a request given to `op` at t begins: the first time at or after t at
        which `op` is free, back from a break and on duty; if their shift ended meanwhile, a
        colleague on duty then (op mod the operators on duty) takes it over."""
        while True:
            k = self.on_duty(t)
            if k == 0:
                t = self.rota_end(t)  # finite: someone was on duty when it came
                continue
            op %= k
            free = self.free_from(op, t)
            if free <= t:
                return op, t
            t = free

    def work_periods(self, op: int, a: float, b: float) -> tuple[np.ndarray, np.ndarray]:
        """(starts, ends) of the operator's time between breaks within [a, b), in order."""
        if self.ops.break_min <= 0:
            return np.array([a]), np.array([b])
        off, cycle = self.break_offset[op], self.cycle_s
        j = np.arange(np.floor((a + off) / cycle), np.ceil((b + off) / cycle) + 1)
        w0 = j * cycle - off
        w1 = np.minimum(w0 + self.ops.break_every_min * 60.0, b)
        w0 = np.maximum(w0, a)
        keep = w1 > w0
        return w0[keep], w1[keep]

    def vigilance(self, op: int, t: float) -> float:
        """1 for the first 30 minutes on task, falling to `vigilance_at_90_min` at 90. With
        breaks every 30 minutes or less, it never falls."""
        on_task = self._on_task_s(op, t) / 60.0
        if on_task <= VIGILANT_MIN:
            return 1.0
        low = self.ops.vigilance_at_90_min
        return max(low, 1.0 - (1.0 - low) * (on_task - VIGILANT_MIN) / 60.0)
