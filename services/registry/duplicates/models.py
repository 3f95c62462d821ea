"""Possible duplicates that a reviewer dismissed (same name and birth date, different people)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, model_validator
from pydantic import Field as PydanticField
from sqlalchemy import Column, DateTime
from sqlmodel import Field

from services.registry.residents.models import ResidentPublic
from services.registry.tables import Base
from shared.kit.time import UtcDateTime


class DuplicateDismissal(Base, table=True):
    __tablename__ = "duplicate_dismissal"

    # The sorted member ids joined by commas: the group as the reviewer saw it. A new member
    # makes a new group, which is listed again.
    group_key: str = Field(primary_key=True, max_length=400)
    dismissed_by: str = Field(max_length=64)
    dismissed_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class DuplicateGroup(BaseModel):
    regency_code: str
    birth_date: date
    residents: list[ResidentPublic]


class DuplicateResolution(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["merge", "dismiss"]
    resident_ids: Annotated[list[str], PydanticField(min_length=2, max_length=10)]
    # merge: the resident that stays; the others are archived with merged_into pointing at it.
    keep: str | None = None

    @model_validator(mode="after")
    def _keep_is_member(self) -> DuplicateResolution:
        if self.action == "merge" and (self.keep is None or self.keep not in self.resident_ids):
            raise ValueError("keep must name one of resident_ids when merging")
        return self


class NikReview(Base, table=True):
    """A registration whose NIK is held by a resident the registering organisation cannot see.

    The registration is kept whole as its own resident (``resident_id``, NIK in ``held_nik``,
    off the feed) so nothing the caller sent is lost and the caller's answer is that of any
    new registration; an agency then merges it into ``existing_resident_id`` (same person) or
    rejects it (the NIK was wrong). Either way the held resident is archived, never deleted.
    """

    __tablename__ = "nik_review"

    id: str = Field(primary_key=True, max_length=36)
    resident_id: str = Field(max_length=36, unique=True)
    existing_resident_id: str = Field(max_length=36)
    status: str = Field(default="pending", max_length=10, index=True)
    submitted_by: str = Field(max_length=64)
    submitted_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    resolved_by: str | None = Field(default=None, max_length=64)
    resolved_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))


class NikReviewPublic(BaseModel):
    id: str
    status: str
    submitted_by: str
    submitted_at: UtcDateTime
    resolved_by: str | None
    resolved_at: UtcDateTime | None
    # The registration as submitted and the resident already holding the NIK, side by side.
    registration: ResidentPublic
    existing: ResidentPublic


class NikReviewResolution(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # merge: the same person, folded into the existing resident; reject: the NIK was wrong.
    action: Literal["merge", "reject"]
