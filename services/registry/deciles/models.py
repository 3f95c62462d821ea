"""A resident's decile history: each welfare decile it was given, by which register edition
(or edit), effective from when. The resident's ``welfare_decile`` is the entry with the latest
``effective_on``; an older edition imported later joins the history without overwriting it.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from pydantic import BaseModel
from sqlalchemy import BigInteger, Column, DateTime, Index, Integer
from sqlmodel import Field

from services.registry.tables import Base

# A register edition: a year, a month (2025-07) or a day (2025-07-15).
EDITION = re.compile(r"^(\d{4})(?:-(0[1-9]|1[0-2]))?(?:-(0[1-9]|[12]\d|3[01]))?$")
SOURCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,39}$")


class ResidentDecile(Base, table=True):
    __tablename__ = "resident_decile"
    __table_args__ = (
        Index("ix_resident_decile_resident_effective", "resident_id", "effective_on"),
    )

    id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    )
    resident_id: str = Field(max_length=36)
    welfare_decile: int
    source: str | None = Field(default=None, max_length=40)
    edition: str | None = Field(default=None, max_length=10)
    effective_on: date
    org_id: str = Field(max_length=64)
    recorded_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class DecileEntry(BaseModel):
    welfare_decile: int
    source: str | None
    edition: str | None
    effective_on: date


def effective_on(edition: str) -> date:
    """The first day an edition speaks for: 2025-07 from 1 July 2025, 2025 from 1 January."""
    found = EDITION.match(edition)
    if found is None:
        raise ValueError("must be a year, a month or a day: 2025, 2025-07 or 2025-07-15")
    year, month, day = found.groups()
    try:
        return date(int(year), int(month or 1), int(day or 1))
    except ValueError as exc:
        raise ValueError("is not a day of the calendar") from exc
