"""Status events for regional agencies: a resident verified, placed, completed, independent.

Rows hold the resident id (an internal UUID, never NIK or name); the feed serves it only as
an HMAC pseudonym computed when read, so rotating the key re-pseudonymises the whole feed.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import BigInteger, Column, DateTime, Integer
from sqlmodel import Field

from services.reporting.tables import Base

STATUS_EVENTS = ("verified", "placed", "completed", "independent")


class StatusEvent(Base, table=True):
    __tablename__ = "status_event"

    seq: int | None = Field(
        default=None,
        sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    )
    event: str = Field(max_length=20)
    resident_id: str = Field(max_length=64)
    village_code: str = Field(max_length=20)
    district_code: str = Field(max_length=20, index=True)
    kind: str | None = Field(default=None, max_length=30)
    occurred_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class StatusEventPublic(BaseModel):
    cursor: str
    event: str
    resident: str
    village_code: str
    district_code: str
    kind: str | None
    occurred_at: datetime


class StatusEventPage(BaseModel):
    items: list[StatusEventPublic]
    next_cursor: str
    has_more: bool
