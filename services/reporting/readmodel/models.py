"""The read model: what reporting keeps of residents, opportunities, placements and follow-ups.

Only non-personal fields arrive (docs/contracts.md) and only those the indicators need are
kept. Every row keeps the timestamps of its transitions, so the indicators can be answered
for any ``as_of`` date: "verified by 31 October" is ``verified_at < cutoff``.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel
from sqlalchemy import BigInteger, Column, DateTime, Index
from sqlmodel import Field

from services.reporting.tables import Base
from shared.kit.feed import FeedState


def _ts(index: bool = False) -> Column:
    return Column(DateTime(timezone=True), nullable=True, index=index)


class ResidentFact(Base, table=True):
    __tablename__ = "rm_resident"
    __table_args__ = (Index("ix_rm_resident_district_village", "district_code", "village_code"),)

    id: str = Field(primary_key=True, max_length=64)
    version: int
    village_code: str = Field(max_length=20)
    district_code: str = Field(max_length=20)
    regency_code: str = Field(max_length=20)
    sex: str | None = Field(default=None, max_length=8)
    age: int | None = None
    age_band: str = Field(max_length=10)
    education_level: str | None = Field(default=None, max_length=40)
    welfare_decile: int | None = None
    # The register edition the decile comes from and the day it speaks from (a cohort's
    # "left the targeted deciles" compares them with the baseline's).
    decile_edition: str | None = Field(default=None, max_length=10)
    decile_effective_on: date | None = None
    has_disability: bool = False
    productive_age: bool = False
    in_target_group: bool = False
    status: str = Field(max_length=20)
    priority_rank: int | None = None
    registered_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    verified_at: datetime | None = Field(default=None, sa_column=_ts())
    independent_at: datetime | None = Field(default=None, sa_column=_ts(index=True))
    # Set when the resident was merged into another record: a duplicate is not counted twice.
    removed_at: datetime | None = Field(default=None, sa_column=_ts())
    merged_into: str | None = Field(default=None, max_length=64)


class OpportunityFact(Base, table=True):
    __tablename__ = "rm_opportunity"

    id: str = Field(primary_key=True, max_length=64)
    version: int
    provider_org_id: str = Field(max_length=64, index=True)
    provider_org_type: str = Field(max_length=30)
    kind: str = Field(max_length=30)
    location_village_code: str | None = Field(default=None, max_length=20)
    district_code: str | None = Field(default=None, max_length=20, index=True)
    slots: int = 0
    status: str = Field(max_length=20)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    # First time it was open to residents; a draft never opened is not "offered".
    opened_at: datetime | None = Field(default=None, sa_column=_ts())
    # A cancelled opportunity was withdrawn, not offered: it leaves the counts from then on.
    cancelled_at: datetime | None = Field(default=None, sa_column=_ts())


class PlacementFact(Base, table=True):
    __tablename__ = "rm_placement"
    __table_args__ = (Index("ix_rm_placement_district_village", "district_code", "village_code"),)

    id: str = Field(primary_key=True, max_length=64)
    version: int
    status: str = Field(max_length=20)
    resident_id: str = Field(max_length=64, index=True)
    opportunity_id: str = Field(max_length=64)
    provider_org_id: str = Field(max_length=64, index=True)
    provider_org_type: str = Field(max_length=30)
    kind: str = Field(max_length=30)
    village_code: str = Field(max_length=20)
    district_code: str = Field(max_length=20)
    grant_amount_idr: int | None = None
    proposed_at: datetime | None = Field(default=None, sa_column=_ts())
    offered_at: datetime | None = Field(default=None, sa_column=_ts())
    accepted_at: datetime | None = Field(default=None, sa_column=_ts())
    started_at: datetime | None = Field(default=None, sa_column=_ts())
    completed_at: datetime | None = Field(default=None, sa_column=_ts())
    ended_at: datetime | None = Field(default=None, sa_column=_ts())


class FollowUpFact(Base, table=True):
    __tablename__ = "rm_follow_up"
    __table_args__ = (Index("ix_rm_follow_up_district_village", "district_code", "village_code"),)

    id: str = Field(primary_key=True, max_length=64)
    resident_id: str = Field(max_length=64, index=True)
    village_code: str = Field(max_length=20)
    district_code: str = Field(max_length=20)
    visited_on: date
    employment_status: str | None = Field(default=None, max_length=30)
    income_per_member_idr: int | None = None
    organisation_id: str | None = Field(default=None, max_length=64)


class EnrolmentFact(Base, table=True):
    """A resident in a registry cohort, with the baseline the registry froze (``enrolled``
    events): the decile and its edition, and income per member. Never updated: the first
    enrolment seen is the baseline, as in the registry."""

    __tablename__ = "rm_enrolment"

    cohort_code: str = Field(primary_key=True, max_length=40)
    resident_id: str = Field(primary_key=True, max_length=64, index=True)
    enrolled_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    baseline_on: date
    welfare_decile: int | None = None
    decile_edition: str | None = Field(default=None, max_length=10)
    # The day the baseline's decile speaks from (shared/programme/cohorts.py).
    decile_effective_on: date | None = None
    income_per_member_idr: int | None = Field(default=None, sa_type=BigInteger)
    # The registry's targeted deciles (1 .. this) when the baseline was frozen.
    target_max_decile: int | None = None


class GrievanceFact(Base, table=True):
    """A complaint as the registry's feed shows it: category, place, status and dates, never
    its text or who made it (issue 20)."""

    __tablename__ = "rm_grievance"
    __table_args__ = (Index("ix_rm_grievance_district_village", "district_code", "village_code"),)

    id: str = Field(primary_key=True, max_length=64)
    version: int
    category: str = Field(max_length=20)
    status: str = Field(max_length=20)
    village_code: str = Field(max_length=20)
    district_code: str = Field(max_length=20)
    provider_org_id: str | None = Field(default=None, max_length=64, index=True)
    due_on: date
    opened_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    closed_at: datetime | None = Field(default=None, sa_column=_ts())


class SyncState(BaseModel):
    """Where the read model stands in each feed (``GET /v1/reports/sync``)."""

    feeds: list[FeedState]
    caught_up: bool
