"""What every scenario section is built from: the strict base model, its number types, and
the reliability (MTBF/MTTR) cameras, links and servers share."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Positive = Annotated[float, Field(gt=0)]
NonNegative = Annotated[float, Field(ge=0)]
Hourly = Annotated[list[Annotated[float, Field(ge=0, le=1)]], Field(min_length=24, max_length=24)]


class Strict(BaseModel):
    """Base for every schema section: unknown keys are errors, values are checked on set,
    numbers are finite (`"inf"` and `"nan"` as text are refused too)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)


class Reliability(Strict):
    """Exponential time to failure and to repair."""

    mtbf_h: Positive = Field(
        43_800.0, description="Mean time between failures, hours (exponential)"
    )
    mttr_h: Positive = Field(48.0, description="Mean time to repair, hours (exponential)")
