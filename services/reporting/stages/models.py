"""Programme stages and targets: the admin's plan, set with PUT, beside measured progress."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Self

from pydantic import BaseModel, ConfigDict, model_validator
from pydantic import Field as Check
from sqlalchemy import Column, DateTime
from sqlmodel import Field

from services.reporting.tables import Base
from shared.programme.codes import DistrictCode
from shared.programme.cohorts import CohortCode


class StageCode(StrEnum):
    preparation = "preparation"
    data_integration = "data_integration"
    program_sync = "program_sync"
    distribution_trial = "distribution_trial"
    monitoring_evaluation = "monitoring_evaluation"


STAGE_ORDER = list(StageCode)


class StageStatus(StrEnum):
    planned = "planned"
    in_progress = "in_progress"
    done = "done"


class ProgramStage(Base, table=True):
    __tablename__ = "program_stage"

    code: str = Field(primary_key=True, max_length=30)
    planned_start: date | None = None
    planned_end: date | None = None
    actual_start: date | None = None
    actual_end: date | None = None
    status: str = Field(default=StageStatus.planned, max_length=20)
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    updated_by: str = Field(max_length=64)


# The cohort of a district's standing target: the one the summary and the stages compare with.
STANDING = ""


class ProgramTarget(Base, table=True):
    """A district's target, of a cohort (a programme year, defined in the registry) or, with
    ``cohort_code`` empty, standing: targets set before cohorts existed stay standing."""

    __tablename__ = "program_target"

    cohort_code: str = Field(
        default=STANDING,
        primary_key=True,
        max_length=40,
        sa_column_kwargs={"server_default": STANDING},
    )
    district_code: str = Field(primary_key=True, max_length=20)
    residents_to_place: int = Field(ge=0)
    residents_to_become_independent: int = Field(ge=0)
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    updated_by: str = Field(max_length=64)


class StageUpdate(BaseModel):
    """The whole plan of a stage: a PUT replaces it, so sending it twice changes nothing."""

    model_config = ConfigDict(extra="forbid")

    planned_start: date | None = None
    planned_end: date | None = None
    actual_start: date | None = None
    actual_end: date | None = None
    status: StageStatus = StageStatus.planned

    @model_validator(mode="after")
    def _dates_in_order(self) -> Self:
        for start, end, name in (
            (self.planned_start, self.planned_end, "planned_end"),
            (self.actual_start, self.actual_end, "actual_end"),
        ):
            if start and end and end < start:
                raise ValueError(f"{name} is before its start")
        if self.status == StageStatus.done and self.actual_end is None:
            raise ValueError("a stage that is done needs its actual_end")
        return self


class StageProgress(BaseModel):
    measure: str
    value: int | None  # None: suppressed for a regional agency (a small cell)
    of: int | None
    ratio: float | None


class StagePublic(BaseModel):
    code: StageCode
    position: int
    planned_start: date | None
    planned_end: date | None
    actual_start: date | None
    actual_end: date | None
    status: StageStatus
    progress: list[StageProgress]


class StageList(BaseModel):
    items: list[StagePublic]


class TargetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # A cohort code as the registry's cohorts have (``POST /v1/cohorts``); none: the district's
    # standing target. Reporting learns of cohorts only from enrolments, so a cohort's targets
    # may be set before anyone is enrolled in it.
    cohort: CohortCode | None = None
    district_code: DistrictCode
    residents_to_place: int = Check(ge=0, le=10_000_000)
    residents_to_become_independent: int = Check(ge=0, le=10_000_000)


class TargetsUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    targets: list[TargetIn] = Check(min_length=1, max_length=500)


class TargetPublic(BaseModel):
    cohort: str | None
    district_code: str
    residents_to_place: int
    residents_to_become_independent: int


class TargetList(BaseModel):
    items: list[TargetPublic]
