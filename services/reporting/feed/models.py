"""Status events: a resident verified, placed, completed, independent.

Rows hold the resident id (an internal UUID, never NIK or name). The event feed serves it only
as an HMAC pseudonym computed when read, so rotating the key re-pseudonymises the whole feed,
and only to callers who may see residents (admin, agencies, local governments). Regional
agencies read counts per village and day instead, with nothing that links two events to one
resident.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel
from sqlalchemy import BigInteger, Column, DateTime, Integer
from sqlmodel import Field

from services.reporting.tables import Base
from shared.kit.time import UtcDateTime

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
    # Stored as UTC; SQLite hands it back naive, which is no RFC 3339 date-time.
    occurred_at: UtcDateTime


class StatusEventPage(BaseModel):
    items: list[StatusEventPublic]
    next_cursor: str
    has_more: bool


class StatusCount(BaseModel):
    """How many events of a kind a village had on a day. ``events`` is None when 1 .. threshold-1
    for a regional agency: a village's two verifications on a day would name its residents."""

    day: date
    district_code: str
    village_code: str
    event: str
    events: int | None


class StatusCountPage(BaseModel):
    """Closed days only (before today in the regency's time zone): a day's counts are read
    whole, never as they grow, so polling cannot time a single event."""

    suppressed_below: int | None
    first_day: date | None
    last_day: date | None
    items: list[StatusCount]
    next_after: date | None
    has_more: bool
