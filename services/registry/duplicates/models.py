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
