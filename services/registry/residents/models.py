"""Residents: the table, its change history, and the Create/Update/Public family of the API.

Personal fields (NIK, family card number, name, birth date, address, phone) live here and in
no other service; everything else is what matching and reporting receive on the change feed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import Query
from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationInfo, field_validator
from sqlalchemy import JSON, BigInteger, Column, DateTime, Index, UniqueConstraint
from sqlmodel import Field

from services.registry.residents import nik as nik_rules
from services.registry.tables import Base
from shared.kit.time import UtcDateTime
from shared.programme.codes import VillageCode
from shared.programme.education import EducationLevel
from shared.programme.regions import is_known
from shared.programme.skills import validate_skills

Sex = Literal["M", "F"]
EmploymentStatus = Literal["unemployed", "informal", "employed", "self_employed", "student"]
Status = Literal["registered", "verified", "independent", "archived"]
# Kinds of UU 8/2016 on persons with disabilities (physical, intellectual, mental, sensory).
DisabilityKind = Literal["physical", "intellectual", "mental", "visual", "hearing", "speech"]

PERSONAL_FIELDS = ("nik", "family_card_number", "full_name", "address", "phone")

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
Address = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Purpose = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
FamilyCard = Annotated[str, StringConstraints(pattern=r"^\d{16}$")]
Income = Annotated[int, Field(ge=0, le=10_000_000_000)]
HouseholdSize = Annotated[int, Field(ge=1, le=50)]
Decile = Annotated[int, Field(ge=1, le=10)]
Skills = Annotated[list[str], Field(max_length=40)]
Disability = Annotated[list[DisabilityKind], Field(max_length=6)]

_PHONE_NOISE = re.compile(r"[\s\-().]")


def normalise_phone(value: str) -> str:
    """Indonesian numbers to +62…: 0812-3456-789, 62812…, +62 812… all become +62812…"""
    digits = _PHONE_NOISE.sub("", value)
    if digits.startswith("+62"):
        rest = digits[3:]
    elif digits.startswith("62"):
        rest = digits[2:]
    elif digits.startswith("0"):
        rest = digits[1:]
    else:
        raise ValueError("must be an Indonesian number: 08…, 62… or +62…")
    if not rest.isdigit() or not 8 <= len(rest) <= 12 or rest.startswith("0"):
        raise ValueError("must be an Indonesian number of 9 to 13 digits after the leading 0")
    return "+62" + rest


def check_birth_date(value: date) -> date:
    if value > datetime.now(UTC).date():
        raise ValueError("must not be in the future")
    if value.year < 1900:
        raise ValueError("must be 1900 or later")
    return value


def check_village(value: str) -> str:
    if not is_known(value, "village"):
        raise ValueError("is not a village in the Kemendagri reference list")
    return value


def check_nik(value: str) -> str:
    problem = nik_rules.format_problem(value)
    if problem:
        raise ValueError(problem)
    return value


class Resident(Base, table=True):
    __tablename__ = "resident"
    __table_args__ = (
        UniqueConstraint("village_code", "priority_rank", name="uq_resident_village_priority"),
        Index("ix_resident_duplicate_key", "regency_code", "name_key", "birth_date"),
    )

    id: str = Field(primary_key=True, max_length=36)
    # Null only after erasure; unique while set.
    nik: str | None = Field(default=None, max_length=16, unique=True)
    # A registration whose NIK another resident holds outside the registering organisation's
    # sight waits here for the agencies' review (``nik_review``); the caller sees it as ``nik``.
    held_nik: str | None = Field(default=None, max_length=16, index=True)
    # An edit to a NIK another resident holds out of the editor's sight: the resident keeps
    # ``nik`` until the agencies' review, and its editor sees this one (issue 13, item 2).
    pending_nik: str | None = Field(default=None, max_length=16, index=True)
    family_card_number: str | None = Field(default=None, max_length=16, index=True)
    full_name: str | None = Field(default=None, max_length=120)
    name_key: str | None = Field(default=None, max_length=120)
    sex: str = Field(max_length=1)
    birth_date: date
    village_code: str = Field(max_length=13, index=True)
    district_code: str = Field(max_length=8, index=True)
    regency_code: str = Field(max_length=5)
    address: str | None = Field(default=None, max_length=300)
    phone: str | None = Field(default=None, max_length=16)
    education_level: str | None = Field(default=None, max_length=20)
    skills: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    employment_status: str | None = Field(default=None, max_length=20)
    monthly_income_idr: int | None = Field(default=None, sa_type=BigInteger)
    household_size: int | None = None
    welfare_decile: int | None = Field(default=None, index=True)
    # Where the current decile comes from: the register edition that gave it (or an edit), and
    # the day it speaks for; its history is ``resident_decile`` (services/registry/deciles).
    decile_source: str | None = Field(default=None, max_length=40)
    decile_edition: str | None = Field(default=None, max_length=10)
    decile_effective_on: date | None = None
    disability: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    consent_given: bool | None = None
    consent_purpose: str | None = Field(default=None, max_length=200)
    consent_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    consent_recorded_by: str | None = Field(default=None, max_length=64)
    # "given", "refused" (never given) or "withdrawn" (given, then taken back): the feed's
    # word for consent (docs/contracts.md, C1). Null with no consent recorded.
    consent_status: str | None = Field(default=None, max_length=10)
    status: str = Field(default="registered", max_length=12, index=True)
    priority_rank: int | None = None
    version: int = 1
    source_org_id: str = Field(max_length=64)
    merged_into: str | None = Field(default=None, max_length=36)
    registered_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    verified_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    independent_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    erased_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))


class ResidentChange(Base, table=True):
    """Who changed what and when. Field names only, never values: the history must not become a
    second copy of personal data that erasure would have to chase."""

    __tablename__ = "resident_change"

    id: int | None = Field(default=None, primary_key=True)
    resident_id: str = Field(max_length=36, index=True)
    version: int
    event: str = Field(max_length=20)
    fields: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    org_id: str = Field(max_length=64)
    org_type: str = Field(max_length=30)
    subject: str = Field(max_length=120)
    changed_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


# --- API models ---------------------------------------------------------------------------


class ConsentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    given: bool
    purpose: Purpose | None = None
    # When the resident gave (or refused) consent; defaults to the time it is recorded.
    # Stored in UTC: SQLite keeps no offset, so a +08:00 time would read back 8 h off and a
    # re-import of the same file would look like a change. Naive times are UTC.
    at: UtcDateTime | None = None


class ConsentPublic(BaseModel):
    given: bool
    purpose: str | None
    at: datetime | None
    recorded_by: str | None


# Each checked field's own check. None, a field an update leaves out, is not checked.
_FIELD_CHECKS: dict[str, Callable[[Any], Any]] = {
    "nik": check_nik,
    "birth_date": check_birth_date,
    "village_code": check_village,
    "phone": normalise_phone,
    "skills": validate_skills,
    "disability": lambda kinds: sorted(set(kinds)),
}


class _ResidentFields(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator(*_FIELD_CHECKS, check_fields=False)
    @classmethod
    def _checked(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None or info.field_name is None:
            return value
        return _FIELD_CHECKS[info.field_name](value)


class ResidentCreate(_ResidentFields):
    nik: str
    family_card_number: FamilyCard | None = None
    full_name: Name
    sex: Sex
    birth_date: date
    village_code: VillageCode
    address: Address | None = None
    phone: str | None = None
    education_level: EducationLevel | None = None
    skills: Skills = []
    employment_status: EmploymentStatus | None = None
    monthly_income_idr: Income | None = None
    household_size: HouseholdSize | None = None
    welfare_decile: Decile | None = None
    disability: Disability = []
    consent: ConsentIn | None = None


# Fields a client may set, in the order of ResidentCreate (an import's columns follow it);
# status, version, priority and the source organisation are ours, consent is its own record.
WRITABLE_FIELDS = tuple(name for name in ResidentCreate.model_fields if name != "consent")


class ResidentUpdate(_ResidentFields):
    """A partial change; a field sent as null clears it (required fields cannot be cleared)."""

    nik: str | None = None
    family_card_number: FamilyCard | None = None
    full_name: Name | None = None
    sex: Sex | None = None
    birth_date: date | None = None
    village_code: VillageCode | None = None
    address: Address | None = None
    phone: str | None = None
    education_level: EducationLevel | None = None
    skills: Skills | None = None
    employment_status: EmploymentStatus | None = None
    monthly_income_idr: Income | None = None
    household_size: HouseholdSize | None = None
    welfare_decile: Decile | None = None
    disability: Disability | None = None
    consent: ConsentIn | None = None


class ResidentPublic(BaseModel):
    id: str
    nik: str | None
    family_card_number: str | None
    full_name: str | None
    sex: str
    birth_date: date | None
    village_code: str
    district_code: str
    regency_code: str
    address: str | None
    phone: str | None
    education_level: str | None
    skills: list[str]
    employment_status: str | None
    monthly_income_idr: int | None
    household_size: int | None
    welfare_decile: int | None
    disability: list[str]
    consent: ConsentPublic | None
    age: int
    productive_age: bool
    in_target_group: bool
    status: str
    priority_rank: int | None
    version: int
    source_org_id: str
    merged_into: str | None
    # Aware and in UTC whichever database the row was read from (SQLite keeps no offset).
    registered_at: UtcDateTime
    updated_at: UtcDateTime
    verified_at: UtcDateTime | None
    independent_at: UtcDateTime | None
    erased_at: UtcDateTime | None


class ResidentProviderView(BaseModel):
    """What a provider organisation sees of a resident whose placement it accepted: who to
    contact and what the placement needs (issue 13, item 8). No family card, birth date, age,
    decile, income, household size, disability (health data) or consent record."""

    # Forbid: a full record can never pass for this view, whichever model a route picks.
    model_config = ConfigDict(extra="forbid")

    id: str
    nik: str | None
    full_name: str | None
    phone: str | None
    address: str | None
    village_code: str
    district_code: str
    education_level: str | None
    skills: list[str]
    version: int


# A single resident as the reader's organisation type may see it.
ResidentView = ResidentPublic | ResidentProviderView


class PriorityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Rank within the village, 1 first; null removes the resident from the priority list.
    rank: Annotated[int, Field(ge=1, le=100_000)] | None


class HistoryEntry(BaseModel):
    version: int
    event: str
    fields: list[str]
    org_id: str
    org_type: str
    subject: str
    changed_at: UtcDateTime


@dataclass(frozen=True, slots=True)
class ResidentFilters:
    """What a page of residents may be narrowed to; its fields are the route's query parameters."""

    village_code: Annotated[str | None, Query(max_length=13)] = None
    district_code: Annotated[str | None, Query(max_length=8)] = None
    status: Status | None = None
    max_decile: Annotated[int | None, Query(ge=1, le=10)] = None
    in_target_group: bool | None = None
    has_priority: bool | None = None
    q: Annotated[
        str | None, Query(min_length=1, max_length=120, description="Name or NIK prefix")
    ] = None
