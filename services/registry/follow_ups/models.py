"""Follow-ups: visits that record how a resident is doing after an opportunity."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints
from pydantic import Field as PydanticField
from sqlalchemy import BigInteger, Column, DateTime, UniqueConstraint
from sqlmodel import Field

from services.registry.residents.models import EmploymentStatus
from services.registry.tables import ResidentRecord
from shared.kit.time import UtcDateTime

# Where a visit's income figure comes from: what the graduation rule asks for beyond a
# resident's own word (rules.py of the graduation domain).
IncomeSource = Literal["self_report", "payslip", "employer_confirmed", "business_record"]
SELF_REPORT = "self_report"
# A reference to the evidence (a document id in the organisation's own records, or a hash of
# the document), never the document: the registry keeps no payslips.
EvidenceRef = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:/#-]{1,128}$")]


class FollowUp(ResidentRecord, table=True):
    __tablename__ = "follow_up"
    # One visit per resident, day and organisation: a retried POST finds the same record.
    __table_args__ = (
        UniqueConstraint("resident_id", "visited_on", "organisation_id", name="uq_follow_up_visit"),
    )

    visited_on: date
    employment_status: str = Field(max_length=20)
    # The household's figures as seen on this visit (the family card's income and size, not
    # the member's): households.service takes the latest visit of any member, never a sum.
    monthly_income_idr: int = Field(sa_type=BigInteger)
    household_size: int
    income_per_member_idr: int = Field(sa_type=BigInteger)
    # Visits recorded before revision 0007 were all the resident's word.
    income_source: str = Field(default=SELF_REPORT, max_length=20)
    evidence_ref: str | None = Field(default=None, max_length=128)
    notes: str | None = Field(default=None, max_length=2000)
    organisation_id: str = Field(max_length=64)
    # The recorder's organisation type: a provider's visit is bound to its placement, an
    # agency's is not. None on visits recorded before revision 0005 (service.counts).
    org_type: str | None = Field(default=None, max_length=30)
    # The placement the visit is about: a provider's visit always names one of its own (it
    # is how the provider reads the visit back); an agency may name one.
    placement_id: str | None = Field(default=None, max_length=36)
    recorded_by: str = Field(max_length=120)
    recorded_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class FollowUpDue(ResidentRecord, table=True):
    """A visit the plan expects: written when matching's feed says a placement started, at
    each of the settings' offsets from the start; closed by the visit that answers it."""

    __tablename__ = "follow_up_due"
    __table_args__ = (
        UniqueConstraint("placement_id", "kind", "offset_days", name="uq_follow_up_due"),
    )

    placement_id: str = Field(max_length=36, index=True)
    # "visit" (how the resident is doing) or "wage_confirmation" (the provider's word on pay).
    kind: str = Field(max_length=20)
    offset_days: int
    due_on: date = Field(index=True)
    assigned_org_id: str = Field(max_length=64, index=True)
    # "open", "done" (a visit answered it) or "cancelled" (the placement was dropped).
    status: str = Field(default="open", max_length=10, index=True)
    follow_up_id: str | None = Field(default=None, max_length=36)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class DueVisit(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    resident_id: str
    placement_id: str
    kind: str
    offset_days: int
    due_on: date
    assigned_org_id: str
    status: str
    follow_up_id: str | None


class FollowUpCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    visited_on: date
    employment_status: EmploymentStatus
    monthly_income_idr: Annotated[int, PydanticField(ge=0, le=10_000_000_000)]
    household_size: Annotated[int, PydanticField(ge=1, le=50)]
    income_source: IncomeSource = "self_report"
    evidence_ref: EvidenceRef | None = None
    notes: Annotated[str, StringConstraints(max_length=2000)] | None = None
    # Required of providers (a placement disclosed to them for this resident), optional for
    # agencies; checked by the service, which knows who is asking.
    placement_id: Annotated[str, StringConstraints(min_length=1, max_length=36)] | None = None


class FollowUpVisit(BaseModel):
    """A recorded visit, as the resident's list of follow-ups shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    resident_id: str
    visited_on: date
    employment_status: str
    monthly_income_idr: int
    household_size: int
    income_per_member_idr: int
    income_source: str
    evidence_ref: str | None
    notes: str | None
    organisation_id: str
    placement_id: str | None
    recorded_at: UtcDateTime


class FollowUpPublic(FollowUpVisit):
    """A visit just recorded, with the resident's status after it (it may have changed)."""

    resident_status: str
