"""The complaints report's shape: counts by category, with their SLA breaches."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel


class GrievanceCounts(BaseModel):
    """``None``: a small count hidden for regional agencies (or hidden to protect one)."""

    opened: int | None
    open: int | None
    breached: int | None


class CategoryCounts(GrievanceCounts):
    category: str


class GrievanceReport(BaseModel):
    as_of: date
    region: str | None
    total: GrievanceCounts
    by_category: list[CategoryCounts]
