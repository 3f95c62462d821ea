"""The read model: residents and opportunities as the registry and catalogue feeds describe
them, without personal data (no NIK, name, contact, address or exact birth date)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel
from sqlmodel import Field

from services.matching.tables import Base, json_column, ts_column
from shared.kit.feed import FeedState


class ResidentView(Base, table=True):
    __tablename__ = "resident_view"

    id: uuid.UUID = Field(primary_key=True)
    version: int
    village_code: str = Field(max_length=20, index=True)
    district_code: str = Field(max_length=20, index=True)
    regency_code: str = Field(max_length=20)
    age: int | None = None
    sex: str | None = Field(default=None, max_length=1)
    education_level: str | None = Field(default=None, max_length=40)
    skills: list[str] = Field(default_factory=list, sa_column=json_column())
    welfare_decile: int | None = None
    disability: list[str] = Field(default_factory=list, sa_column=json_column())
    productive_age: bool = False
    in_target_group: bool = False
    status: str = Field(max_length=30)
    priority_rank: int | None = None
    # The registry's word for consent: "given", "refused", "withdrawn", or null when none was
    # recorded. Anything but given or null keeps the resident out (readmodel.service).
    consent: str | None = Field(default=None, max_length=10)
    registered_at: datetime | None = Field(default=None, sa_column=ts_column())
    verified_at: datetime | None = Field(default=None, sa_column=ts_column())
    independent_at: datetime | None = Field(default=None, sa_column=ts_column())
    merged_into: uuid.UUID | None = None
    updated_at: datetime = Field(sa_column=ts_column(nullable=False))


class OpportunityView(Base, table=True):
    __tablename__ = "opportunity_view"

    id: uuid.UUID = Field(primary_key=True)
    version: int
    provider_org_id: str = Field(max_length=64, index=True)
    provider_org_type: str = Field(max_length=30)
    kind: str = Field(max_length=30, index=True)
    title: str = Field(max_length=200)
    skills_required: list[str] = Field(default_factory=list, sa_column=json_column())
    skills_taught: list[str] = Field(default_factory=list, sa_column=json_column())
    min_age: int | None = None
    max_age: int | None = None
    min_education: str | None = Field(default=None, max_length=40)
    sex: str | None = Field(default=None, max_length=1)
    disability_friendly: bool = False
    location_village_code: str | None = Field(default=None, max_length=20)
    eligible_area_codes: list[str] = Field(default_factory=list, sa_column=json_column())
    slots: int = 0
    # Accepted + started + completed placements: changed only by one conditional UPDATE
    # (``taken < slots``) in the accept transaction, never by the feed.
    taken: int = 0
    grant_amount_idr: int | None = None
    start_date: date | None = None
    end_date: date | None = None
    valid_through: date | None = None
    status: str = Field(max_length=30, index=True)
    updated_at: datetime = Field(sa_column=ts_column(nullable=False))


class SyncPublic(BaseModel):
    feeds: list[FeedState]
