"""Graduation: the recorded event that a household left poverty by the programme's rule, per
member in the programme, with its evidence; revocable by an agency with a reason."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, StringConstraints
from sqlalchemy import JSON, Column, DateTime
from sqlmodel import Field

from services.registry.tables import ResidentRecord
from shared.kit.time import UtcDateTime


class Graduation(ResidentRecord, table=True):
    __tablename__ = "graduation"

    # The day of the last visit the rule rested on.
    graduated_on: date
    recorded_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    rule_version: str = Field(max_length=40)
    # {"poverty_line_idr", "visits": [{id, visited_on, monthly_income_idr, household_size,
    # income_per_member_idr, income_source}]}: figures and ids, no names or notes.
    evidence: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    revoked_by_org: str | None = Field(default=None, max_length=64)
    revoke_reason: str | None = Field(default=None, max_length=500)


class RevokeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=500)]


class ConditionPublic(BaseModel):
    name: str
    holds: bool
    detail: str
    missing: str | None


class GraduationEvent(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    graduated_on: date
    recorded_at: UtcDateTime
    rule_version: str
    evidence: dict[str, Any]
    revoked_at: UtcDateTime | None
    revoked_by_org: str | None
    revoke_reason: str | None


class GraduationPublic(BaseModel):
    resident_id: str
    graduated: bool
    rule_version: str
    # Each condition of the rule as the household's visits stand today.
    conditions: list[ConditionPublic]
    # The graduation in force, if any, then earlier (revoked) ones, newest first.
    events: list[GraduationEvent]
