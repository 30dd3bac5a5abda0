"""The watch's part of a scenario: the street incidents a camera could show, and the
operators who watch for them (who is on duty, on how many monitors, what else they do).

Every default names its source in docs/defaults.md (a line of REFERENCE.md) or is marked
there as an assumption.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from simulator.scenario.base import Hourly, NonNegative, Positive, Strict


class Incidents(Strict):
    """Street incidents a camera could show: a Poisson process shaped by hour and weekday.

    No public source gives street-incident rates, durations or hourly profiles for French
    city centres (REFERENCE): the rate is calibrated on Strasbourg's operators signalling 611
    offences a year, the rest are assumptions (docs/defaults.md).
    """

    days: Annotated[float, Field(gt=0, le=366)] = 182.0  # simulated for the watch figures
    per_camera_day: NonNegative = 0.0128  # an ordinary day; Fri/Sat nights add to it
    visible_median_s: Positive = 120.0  # how long an incident stays visible, lognormal
    visible_sigma: Annotated[float, Field(ge=0, le=3)] = 0.8
    weekend_night_factor: Annotated[float, Field(ge=1, le=10)] = 2.0  # Fri/Sat 18:00-01:00
    hourly: Hourly = Field(default_factory=lambda: [
        0.9, 0.8, 0.6, 0.4, 0.25, 0.15, 0.15, 0.2, 0.3, 0.35, 0.4, 0.45,
        0.5, 0.5, 0.5, 0.55, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 1.0, 1.0,
    ])  # fmt: skip


class Requests(Strict):
    """Work that takes an operator away from the wall, per camera and year (Strasbourg's 2016
    figures over its 367 cameras, REFERENCE), with the mean minutes each (assumptions)."""

    live_transfers_per_camera_year: NonNegative = 15.5  # live images sent to the police
    live_transfer_min: NonNegative = 10.0
    reviews_per_camera_year: NonNegative = 6.1  # recordings reviewed after a complaint
    review_min: NonNegative = 30.0
    exports_per_camera_year: NonNegative = 1.56  # exports on judicial requisition
    export_min: NonNegative = 20.0
    alarm_checks_per_camera_year: NonNegative = 8.6
    alarm_check_min: NonNegative = 3.0


class Operators(Strict):
    """The supervision centre's operators: who is on duty, what each one watches, how."""

    on_duty: list[Annotated[int, Field(ge=0, le=1000)]] = Field(
        default_factory=lambda: [2] * 7 + [4] * 12 + [3] * 5, min_length=24, max_length=24
    )  # by hour of day
    monitors_each: Annotated[int, Field(ge=1, le=64)] = 4
    dwell_s: Annotated[float, Field(gt=0, le=3600)] = 10.0  # a tour step on one monitor
    detection: Annotated[float, Field(gt=0, le=1)] | None = None  # None: from monitors_each
    handling_mean_min: Positive = 8.0  # exponential
    break_every_min: Positive = 30.0
    break_min: NonNegative = 5.0
    vigilance_at_90_min: Annotated[float, Field(gt=0, le=1)] = 0.7
    requests: Requests = Requests()
