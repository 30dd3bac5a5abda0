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

    days: Annotated[float, Field(gt=0, le=366)] = Field(
        182.0, description="Days simulated for the watch's figures (incidents seen, detection)"
    )
    per_camera_day: NonNegative = Field(
        0.0128,
        description=(
            "Incidents per camera per day on an ordinary day (Poisson), calibrated on the 611 "
            "offences Strasbourg's operators signalled in 2016 (REFERENCE.md § The reference city)"
        ),
    )
    visible_median_s: Positive = Field(
        120.0, description="Median time an incident stays visible, seconds (lognormal)"
    )
    visible_sigma: Annotated[float, Field(ge=0, le=3)] = Field(
        0.8, description="Sigma of the visible time's lognormal"
    )
    weekend_night_factor: Annotated[float, Field(ge=1, le=10)] = Field(
        2.0,
        description=(
            "Rate multiplier on Friday and Saturday 18:00-01:00, × (REFERENCE.md § Operators and "
            "incidents, Bellis 2012)"
        ),
    )
    hourly: Hourly = Field(default_factory=lambda: [
        0.9, 0.8, 0.6, 0.4, 0.25, 0.15, 0.15, 0.2, 0.3, 0.35, 0.4, 0.45,
        0.5, 0.5, 0.5, 0.55, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 1.0, 1.0,
    ], description="Incident rate by hour of day from 0 h, 24 values 0..1")  # fmt: skip


class Requests(Strict):
    """Work that takes an operator away from the wall, per camera and year (Strasbourg's 2016
    figures over its 367 cameras, REFERENCE), with the mean minutes each (assumptions)."""

    live_transfers_per_camera_year: NonNegative = Field(
        15.5,
        description=(
            "Live image transfers to the police per camera per year (REFERENCE.md § The reference "
            "city: 5,695 in 2016)"
        ),
    )
    live_transfer_min: NonNegative = Field(
        10.0, description="Mean operator time on a live transfer, minutes (exponential)"
    )
    reviews_per_camera_year: NonNegative = Field(
        6.1,
        description=(
            "Reviews of recordings after a complaint per camera per year (REFERENCE.md § The "
            "reference city: 2,248 in 2016)"
        ),
    )
    review_min: NonNegative = Field(
        30.0, description="Mean operator time on a review, minutes (exponential)"
    )
    exports_per_camera_year: NonNegative = Field(
        1.56,
        description=(
            "Exports on judicial requisition per camera per year (REFERENCE.md § The reference "
            "city: 574 in 2016)"
        ),
    )
    export_min: NonNegative = Field(
        20.0, description="Mean operator time on an export, minutes (exponential)"
    )
    alarm_checks_per_camera_year: NonNegative = Field(
        8.6,
        description=(
            "Alarm checks per camera per year (REFERENCE.md § The reference city: 3,139 in 2016)"
        ),
    )
    alarm_check_min: NonNegative = Field(
        3.0, description="Mean operator time on an alarm check, minutes (exponential)"
    )


class Operators(Strict):
    """The supervision centre's operators: who is on duty, what each one watches, how."""

    on_duty: list[Annotated[int, Field(ge=0, le=1000)]] = Field(
        default_factory=lambda: [2] * 7 + [4] * 12 + [3] * 5,
        min_length=24,
        max_length=24,
        description=(
            "Operators on duty by hour of day from 0 h, 24 values (REFERENCE.md § The reference "
            "city: 2 to 6 at once)"
        ),
    )
    monitors_each: Annotated[int, Field(ge=1, le=64)] = Field(
        4,
        description=(
            "Monitors each operator watches (REFERENCE.md § Operators and incidents: about 9 "
            "pictures at most)"
        ),
    )
    dwell_s: Annotated[float, Field(gt=0, le=3600)] = Field(
        10.0, description="Seconds a monitor's tour shows one camera"
    )
    detection: Annotated[float, Field(gt=0, le=1)] | None = Field(
        None,
        description=(
            "Chance of detecting an incident on a monitor looked at, 0..1; none: from "
            "`monitors_each` (REFERENCE.md § Operators and incidents, PSDB)"
        ),
    )
    handling_mean_min: Positive = Field(
        8.0, description="Mean time handling a detected incident, minutes (exponential)"
    )
    break_every_min: Positive = Field(
        30.0,
        description=(
            "Minutes of work between breaks (REFERENCE.md § Operators and incidents: breaks about "
            "every 30 min)"
        ),
    )
    break_min: NonNegative = Field(5.0, description="Length of a break, minutes")
    vigilance_at_90_min: Annotated[float, Field(gt=0, le=1)] = Field(
        0.7,
        description=(
            "Detection multiplier after 90 min on task, 0..1 (REFERENCE.md § Operators and "
            "incidents: Mackworth 1948; Donald, Donald & Thatcher 2015)"
        ),
    )
    requests: Requests = Field(
        Requests(), description="Work that takes an operator away from the wall"
    )
