"""Complaints (grievances): opened by a resident's message, a village, an agency or a provider;
each with a due date by category, an assigned organisation, a status and its history."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints
from sqlalchemy import Column, DateTime
from sqlmodel import Field

from services.registry.tables import Base
from shared.kit.time import UtcDateTime
from shared.programme.codes import VillageCode

Category = Literal["targeting", "placement", "payment", "data", "conduct", "other"]
GrievanceStatus = Literal["open", "in_progress", "resolved", "rejected"]
CLOSED = frozenset({"resolved", "rejected"})


class Grievance(Base, table=True):
    __tablename__ = "grievance"

    id: str = Field(primary_key=True, max_length=36)
    # What the resident quotes by SMS: short, unique.
    code: str = Field(max_length=12, unique=True)
    category: str = Field(max_length=20)
    village_code: str = Field(max_length=13, index=True)
    district_code: str = Field(max_length=8)
    description: str = Field(max_length=2000)
    placement_id: str | None = Field(default=None, max_length=36)
    provider_org_id: str | None = Field(default=None, max_length=64, index=True)
    # The resident it concerns: set when the resident opened it (their number was known).
    resident_id: str | None = Field(default=None, max_length=36, index=True)
    # "resident", or the organisation type of the one that opened it.
    opened_by_type: str = Field(max_length=30)
    opened_by_org: str | None = Field(default=None, max_length=64)
    assigned_org_id: str | None = Field(default=None, max_length=64)
    status: str = Field(default="open", max_length=12, index=True)
    resolution: str | None = Field(default=None, max_length=2000)
    due_on: date
    version: int = 1
    opened_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    closed_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))


class GrievanceEvent(Base, table=True):
    __tablename__ = "grievance_event"

    id: str = Field(primary_key=True, max_length=36)
    grievance_id: str = Field(max_length=36, index=True)
    from_status: str | None = Field(default=None, max_length=12)
    to_status: str = Field(max_length=12)
    note: str | None = Field(default=None, max_length=2000)
    by_org: str | None = Field(default=None, max_length=64)
    by_type: str = Field(max_length=30)
    at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


Text = Annotated[str, StringConstraints(min_length=1, max_length=2000, strip_whitespace=True)]


class GrievanceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category: Category
    village_code: VillageCode
    description: Text
    placement_id: Annotated[str, StringConstraints(max_length=36)] | None = None


class GrievanceUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: GrievanceStatus | None = None
    assigned_org_id: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    resolution: Text | None = None


class GrievanceEventPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    from_status: str | None
    to_status: str
    note: str | None
    by_type: str
    at: UtcDateTime


class GrievancePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    code: str
    category: Category
    village_code: str
    district_code: str
    description: str
    placement_id: str | None
    opened_by_type: str
    assigned_org_id: str | None
    status: GrievanceStatus
    resolution: str | None
    due_on: date
    opened_at: UtcDateTime
    closed_at: UtcDateTime | None
    version: int


class GrievanceDetail(GrievancePublic):
    history: list[GrievanceEventPublic]
