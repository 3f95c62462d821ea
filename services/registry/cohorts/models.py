"""Cohorts: the participants of one programme year, each with the baseline frozen when they
were enrolled, so that "who left deciles 1-4" and "how much did income change" have a start."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints, model_validator
from pydantic import Field as PydanticField
from sqlalchemy import BigInteger, Column, DateTime, UniqueConstraint
from sqlmodel import Field

from services.registry.tables import Base
from shared.kit.time import UtcDateTime
from shared.programme.cohorts import CohortCode

# One call enrols at most this many; a village's participants fit many times over.
MAX_ENROLMENTS_PER_CALL = 1000


class Cohort(Base, table=True):
    __tablename__ = "cohort"

    code: str = Field(primary_key=True, max_length=40)
    name: str = Field(max_length=120)
    year: int
    enrolment_opens: date
    enrolment_closes: date
    created_by_org: str = Field(max_length=64)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class Enrolment(Base, table=True):
    """A resident in a cohort, with the baseline as it stood on ``baseline_on``: never updated
    afterwards (the resident's record moves on, the baseline does not)."""

    __tablename__ = "cohort_enrolment"
    __table_args__ = (UniqueConstraint("cohort_code", "resident_id", name="uq_cohort_enrolment"),)

    id: str = Field(primary_key=True, max_length=36)
    cohort_code: str = Field(max_length=40, index=True, foreign_key="cohort.code")
    resident_id: str = Field(max_length=36, index=True)
    enrolled_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    enrolled_by_org: str = Field(max_length=64)
    # "request" (POST .../enrolments) or "placement" (the first accepted placement).
    enrolled_via: str = Field(max_length=12)
    baseline_on: date
    welfare_decile: int | None = None
    # Where the decile came from and which edition of the register, as the resident's decile
    # history held them on ``baseline_on``: null for a decile given by an edit (no edition).
    decile_source: str | None = Field(default=None, max_length=40)
    decile_edition: str | None = Field(default=None, max_length=40)
    household_income_idr: int | None = Field(default=None, sa_type=BigInteger)
    household_size: int | None = None
    income_per_member_idr: int | None = Field(default=None, sa_type=BigInteger)
    employment_status: str | None = Field(default=None, max_length=20)


class CohortCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: CohortCode
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
    year: Annotated[int, PydanticField(ge=2000, le=2100)]
    enrolment_opens: date
    enrolment_closes: date

    @model_validator(mode="after")
    def _window(self) -> CohortCreate:
        if self.enrolment_closes < self.enrolment_opens:
            raise ValueError("enrolment_closes is before enrolment_opens")
        return self


class EnrolmentsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resident_ids: Annotated[
        list[Annotated[str, StringConstraints(min_length=1, max_length=36)]],
        PydanticField(min_length=1, max_length=MAX_ENROLMENTS_PER_CALL),
    ]
    # The day the baseline is taken, inside the enrolment window; defaults to today (the
    # programme's), and may be earlier for an enrolment recorded late.
    enrolled_on: date | None = None


class Baseline(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    baseline_on: date
    welfare_decile: int | None
    decile_source: str | None
    decile_edition: str | None
    household_income_idr: int | None
    household_size: int | None
    income_per_member_idr: int | None
    employment_status: str | None


class EnrolmentPublic(BaseModel):
    cohort: str
    resident_id: str
    enrolled_at: UtcDateTime
    enrolled_via: str
    baseline: Baseline


class EnrolmentsResult(BaseModel):
    cohort: str
    enrolled: list[str]
    # Listed, but in this cohort already: their baseline stays as it was frozen.
    already_enrolled: list[str]


class CohortCounts(BaseModel):
    enrolled: int
    graduated: int
    # Enrolled in a targeted decile, now in a decile above the targeted ones given by a later
    # register edition or an edit after the enrolment (shared/programme/cohorts.py).
    left_targeted_deciles: int
    # Median change of income per household member, from the baseline to the latest visit.
    median_income_per_member_change_idr: int | None


class CohortPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    year: int
    enrolment_opens: date
    enrolment_closes: date
    created_at: UtcDateTime
    counts: CohortCounts | None = None
