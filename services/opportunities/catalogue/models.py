"""The opportunity: its table, and the Create/Update/Public models of the API.

JSON field names are part of the API and of the change feed (docs/contracts.md); the README's
field table maps each to schema.org JobPosting and Open Referral HSDS.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Annotated, Any, Literal

from fastapi import Query
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    StrictBool,
    StrictInt,
    StringConstraints,
    field_validator,
)
from sqlalchemy import JSON, BigInteger, Column, DateTime, Index, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from services.opportunities.tables import Base
from shared.kit.time import UtcDateTime
from shared.programme.codes import REGION_CODE_PATTERN, RegionCode
from shared.programme.dates import IsoDate
from shared.programme.education import EDUCATION_LEVELS, EducationLevel
from shared.programme.skills import validate_skills

Kind = Literal["job", "internship", "training", "business_capital", "mentoring"]
Status = Literal["draft", "open", "closed", "cancelled"]
# What a client may ask for when it writes; closing has its own endpoint.
RequestedStatus = Literal["draft", "open"]
PatchStatus = Literal["draft", "open", "cancelled"]
Sex = Literal["any", "F", "M"]
# Completed schooling, lowest first: the ladder every service shares.
Education = EducationLevel
EDUCATION_ORDER = EDUCATION_LEVELS
# Kinds open to any age: a training or mentoring may serve a school leaver of 14 or a
# retired craftsman who teaches; work and capital follow the productive age, 15-64 (BPS).
ANY_AGE_KINDS = frozenset({"training", "mentoring"})
PRODUCTIVE_AGE = (15, 64)

DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# A provider's own reference: printable, no spaces; it may contain "/".
EXTERNAL_ID_PATTERN = r"^[^\s\x00-\x1f]+$"
ExternalId = Annotated[
    str, StringConstraints(min_length=1, max_length=200, pattern=EXTERNAL_ID_PATTERN)
]


def _end_of_day(value: Any) -> Any:
    # "2026-08-31" means applications are accepted all that day, not until its first second.
    if isinstance(value, str) and DATE_ONLY.match(value):
        return f"{value}T23:59:59"
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime.combine(value, time(23, 59, 59))
    return value


# A time without a zone is the regency's local time (the service converts it to UTC).
ValidThrough = Annotated[datetime, BeforeValidator(_end_of_day)]
SkillList = Annotated[list[str], AfterValidator(validate_skills), Field(max_length=50)]


class Opportunity(Base, table=True):
    """One offer of one provider organisation."""

    __tablename__ = "opportunity"
    __table_args__ = (
        # An HR system's own reference names one opportunity of that provider, so a retried
        # push can never make a second row.
        UniqueConstraint("provider_org_id", "external_id"),
        Index("ix_opportunity_status_valid_through", "status", "valid_through"),
        Index("ix_opportunity_location_village_code", "location_village_code"),
    )

    # Time-ordered UUIDs (see service.new_id): ordering by id lists the newest last.
    id: str = Field(sa_column=Column(String(36), primary_key=True))
    provider_org_id: str = Field(sa_column=Column(String(64), nullable=False, index=True))
    provider_org_type: str = Field(sa_column=Column(String(40), nullable=False))
    external_id: str | None = Field(default=None, sa_column=Column(String(200), nullable=True))
    kind: str = Field(sa_column=Column(String(20), nullable=False))
    title: str = Field(sa_column=Column(String(200), nullable=False))
    description: str = Field(default="", sa_column=Column(Text, nullable=False))
    occupation_code: str | None = Field(default=None, sa_column=Column(String(10)))
    skills_required: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    skills_taught: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    min_age: int | None = None
    max_age: int | None = None
    min_education: str | None = Field(default=None, sa_column=Column(String(20)))
    sex: str = Field(default="any", sa_column=Column(String(3), nullable=False))
    sex_reason: str | None = Field(default=None, sa_column=Column(String(500)))
    disability_friendly: bool = False
    location_village_code: str | None = Field(default=None, sa_column=Column(String(13)))
    eligible_area_codes: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    slots: int = 1
    pay_idr: int | None = Field(default=None, sa_column=Column(BigInteger))
    grant_amount_idr: int | None = Field(default=None, sa_column=Column(BigInteger))
    start_date: date | None = None
    end_date: date | None = None
    valid_through: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    status: str = Field(sa_column=Column(String(12), nullable=False))
    version: int = 1
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class OpportunityFields(SQLModel):
    """What a provider says about an offer; shared by create, replace and batch items."""

    # The owner, status history, version and timestamps are the catalogue's: naming one is an
    # error, not silently dropped; and `false` is not a number of slots.
    model_config = {"extra": "forbid"}

    kind: Kind
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=200)]
    description: Annotated[str, StringConstraints(strip_whitespace=True, max_length=10_000)] = ""
    occupation_code: Annotated[str, StringConstraints(pattern=r"^\d{1,6}$")] | None = Field(
        default=None, description="KBJI 2014 / ISCO-08 occupation code"
    )
    skills_required: SkillList = Field(default_factory=list)
    skills_taught: SkillList = Field(default_factory=list)
    min_age: StrictInt | None = Field(default=None, ge=0, le=120)
    max_age: StrictInt | None = Field(default=None, ge=0, le=120)
    min_education: Education | None = None
    sex: Sex = "any"
    sex_reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = (
        None
    )
    disability_friendly: StrictBool = False
    location_village_code: RegionCode | None = None
    eligible_area_codes: list[RegionCode] = Field(default_factory=list, max_length=200)
    slots: StrictInt = Field(default=1, ge=1, le=100_000)
    pay_idr: StrictInt | None = Field(default=None, ge=0)
    grant_amount_idr: StrictInt | None = Field(default=None, ge=0)
    start_date: date | None = None
    end_date: date | None = None
    valid_through: ValidThrough | None = None
    status: RequestedStatus = "open"

    @field_validator("eligible_area_codes")
    @classmethod
    def _canonical_areas(cls, value: list[str]) -> list[str]:
        # Sorted and deduplicated, so the same areas in another order are the same body.
        return sorted(set(value))

    @field_validator("sex_reason")
    @classmethod
    def _blank_reason(cls, value: str | None) -> str | None:
        return value or None


class OpportunityCreate(OpportunityFields):
    """``POST /v1/opportunities``: the provider's reference is optional."""

    external_id: ExternalId | None = None


class BatchItem(OpportunityFields):
    """One item of ``POST /v1/opportunities/batch``: upserted by its ``external_id``."""

    external_id: ExternalId


class OpportunityUpdate(SQLModel):
    """``PATCH``: only the fields sent change; ``null`` clears an optional field."""

    model_config = {"extra": "forbid"}

    kind: Kind | None = None
    title: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=200)]
        | None
    ) = None
    description: Annotated[str, StringConstraints(max_length=10_000)] | None = None
    occupation_code: Annotated[str, StringConstraints(pattern=r"^\d{1,6}$")] | None = None
    skills_required: SkillList | None = None
    skills_taught: SkillList | None = None
    min_age: StrictInt | None = Field(default=None, ge=0, le=120)
    max_age: StrictInt | None = Field(default=None, ge=0, le=120)
    min_education: Education | None = None
    sex: Sex | None = None
    sex_reason: str | None = Field(default=None, max_length=500)
    disability_friendly: StrictBool | None = None
    location_village_code: RegionCode | None = None
    eligible_area_codes: list[RegionCode] | None = Field(default=None, max_length=200)
    slots: StrictInt | None = Field(default=None, ge=1, le=100_000)
    pay_idr: StrictInt | None = Field(default=None, ge=0)
    grant_amount_idr: StrictInt | None = Field(default=None, ge=0)
    start_date: date | None = None
    end_date: date | None = None
    valid_through: ValidThrough | None = None
    status: PatchStatus | None = None


class OpportunityPublic(SQLModel):
    """An opportunity as every reader sees it, and as the change feed carries it."""

    id: str
    provider_org_id: str
    provider_org_type: str
    external_id: str | None
    kind: Kind
    title: str
    description: str
    occupation_code: str | None
    skills_required: list[str]
    skills_taught: list[str]
    min_age: int | None
    max_age: int | None
    min_education: Education | None
    sex: Sex
    sex_reason: str | None
    disability_friendly: bool
    location_village_code: str | None
    eligible_area_codes: list[str]
    slots: int
    pay_idr: int | None
    grant_amount_idr: int | None
    start_date: date | None
    end_date: date | None
    # SQLite reads them back naive; the API and the feed always say UTC.
    valid_through: UtcDateTime | None
    status: Status
    version: int
    created_at: UtcDateTime
    updated_at: UtcDateTime


class CloseRequest(BaseModel):
    """``POST /close``: ``cancelled`` when the offer will not happen at all."""

    model_config = ConfigDict(extra="forbid")

    cancel: bool = False


class BatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Items are checked one by one in the service, so one bad item does not sink the rest.
    items: list[dict[str, Any]] = Field(min_length=1, max_length=500)


class ItemError(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class BatchItemResult(BaseModel):
    index: int
    external_id: str | None
    result: Literal["created", "updated", "unchanged", "error"]
    status_code: int
    opportunity: OpportunityPublic | None = None
    errors: list[ItemError] = Field(default_factory=list)


class BatchResponse(BaseModel):
    created: int
    updated: int
    unchanged: int
    failed: int
    items: list[BatchItemResult]


class UpsertResult(BaseModel):
    opportunity: OpportunityPublic
    created: bool
    changed: bool


RegionQuery = Query(max_length=13, pattern=REGION_CODE_PATTERN)


@dataclass(frozen=True, slots=True)
class ListFilters:
    """What a catalogue page may be narrowed to; its fields are the route's query parameters."""

    kind: Kind | None = None
    status: Status | None = None
    district_code: Annotated[str | None, RegionQuery] = None
    village_code: Annotated[str | None, RegionQuery] = None
    provider_org_id: Annotated[str | None, Query(max_length=64)] = None
    skill: Annotated[str | None, Query(max_length=80)] = None
    open_on: Annotated[IsoDate | None, Query(description="Accepting applications on this date")] = (
        None
    )
