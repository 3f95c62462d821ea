"""Disclosures: which provider organisation may see a resident's personal data, why and until
when (recorded by the matching service when the resident accepts a placement)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints
from sqlalchemy import Column, DateTime, UniqueConstraint
from sqlmodel import Field

from services.registry.tables import ResidentRecord
from shared.kit.time import UtcDateTime


class Disclosure(ResidentRecord, table=True):
    __tablename__ = "disclosure"
    __table_args__ = (
        UniqueConstraint("resident_id", "org_id", "placement_id", name="uq_disclosure_key"),
    )

    org_id: str = Field(max_length=64)
    purpose: str = Field(max_length=40)
    placement_id: str = Field(max_length=36)
    valid_until: date
    recorded_by: str = Field(max_length=64)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class DisclosureCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    org_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    purpose: Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,40}$")] = "placement"
    placement_id: Annotated[str, StringConstraints(min_length=1, max_length=36)]
    valid_until: date


class DisclosurePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    resident_id: str
    org_id: str
    purpose: str
    placement_id: str
    valid_until: date
    recorded_by: str
    created_at: UtcDateTime
