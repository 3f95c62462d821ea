"""A village's priority list: the ranks its meeting (musyawarah desa) agreed, set in one call."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints
from pydantic import Field as PydanticField
from sqlalchemy import Column, DateTime
from sqlmodel import Field

from services.registry.tables import Base
from shared.kit.time import UtcDateTime

# A village holds a few hundred poor residents at most; a list longer than this is bad data.
MAX_LIST_LENGTH = 2000


class PriorityList(Base, table=True):
    """The meeting the village's current ranks came from (one row per village, replaced by
    each new list). The ranks themselves stay on the residents (``priority_rank``)."""

    __tablename__ = "village_priority_list"

    village_code: str = Field(primary_key=True, max_length=13)
    held_on: date
    minutes_number: str = Field(max_length=100)
    minutes_sha256: str = Field(max_length=64)
    ranked: int
    set_by_org: str = Field(max_length=64)
    set_by: str = Field(max_length=120)
    set_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class Meeting(BaseModel):
    model_config = ConfigDict(extra="forbid")

    held_on: date
    minutes_number: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)
    ]
    # The minutes themselves stay with the village; the registry keeps their fingerprint.
    minutes_sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class PriorityListIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # In order: the first is rank 1. Residents of the village not listed lose their rank.
    resident_ids: Annotated[
        list[Annotated[str, StringConstraints(min_length=1, max_length=36)]],
        PydanticField(max_length=MAX_LIST_LENGTH),
    ]
    meeting: Meeting


class RankedResident(BaseModel):
    resident_id: str
    rank: int


class MeetingPublic(BaseModel):
    held_on: date
    minutes_number: str
    minutes_sha256: str
    set_by_org: str
    set_at: UtcDateTime


class PriorityListPublic(BaseModel):
    village_code: str
    items: list[RankedResident]
    # None when the ranks were set one by one, with no list call behind them.
    meeting: MeetingPublic | None
