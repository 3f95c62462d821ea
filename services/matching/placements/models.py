"""Placements, their transition history, and the rows that make the hard limits hold under
concurrency: capital grants (at most one per resident) and active kinds (one per resident)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import UniqueConstraint
from sqlmodel import Field

from services.matching.tables import Base, ts_column

PlacementStatus = Literal[
    "proposed", "offered", "accepted", "started", "completed", "declined", "dropped", "expired"
]
Action = Literal["offer", "accept", "decline", "start", "complete", "drop"]


class Placement(Base, table=True):
    __tablename__ = "placement"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    version: int = 1
    status: str = Field(max_length=20, index=True)
    resident_id: uuid.UUID = Field(index=True)
    opportunity_id: uuid.UUID = Field(index=True)
    run_id: uuid.UUID | None = Field(default=None, index=True)
    provider_org_id: str = Field(max_length=64, index=True)
    provider_org_type: str = Field(max_length=30)
    kind: str = Field(max_length=30)
    village_code: str = Field(max_length=20, index=True)
    district_code: str = Field(max_length=20, index=True)
    grant_amount_idr: int | None = None
    score: float | None = None
    created_by_org: str = Field(max_length=64)
    proposed_at: datetime | None = Field(default=None, sa_column=ts_column())
    offered_at: datetime | None = Field(default=None, sa_column=ts_column())
    accepted_at: datetime | None = Field(default=None, sa_column=ts_column())
    started_at: datetime | None = Field(default=None, sa_column=ts_column())
    completed_at: datetime | None = Field(default=None, sa_column=ts_column())
    ended_at: datetime | None = Field(default=None, sa_column=ts_column())
    created_at: datetime = Field(sa_column=ts_column(nullable=False))
    # Who answered the offer: "resident" (their own reply, relayed by the registry) or
    # "proxy" (an organisation accepting or declining on their behalf). None: not answered.
    decided_by: str | None = Field(default=None, max_length=10)


class PlacementTransition(Base, table=True):
    __tablename__ = "placement_transition"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    placement_id: uuid.UUID = Field(foreign_key="placement.id", index=True)
    from_status: str | None = Field(default=None, max_length=20)
    to_status: str = Field(max_length=20)
    version: int
    org_id: str = Field(max_length=64)
    org_type: str = Field(max_length=30)
    at: datetime = Field(sa_column=ts_column(nullable=False))
    decided_by: str | None = Field(default=None, max_length=10)


class CapitalGrant(Base, table=True):
    """Business capital given to a resident: the primary key makes a second grant impossible,
    whichever provider offers it."""

    __tablename__ = "capital_grant"

    resident_id: uuid.UUID = Field(primary_key=True)
    placement_id: uuid.UUID = Field(foreign_key="placement.id", unique=True)
    provider_org_id: str = Field(max_length=64)
    granted_at: datetime = Field(sa_column=ts_column(nullable=False))


class ActiveKind(Base, table=True):
    """A resident's accepted or started placement of a kind: one at a time per kind."""

    __tablename__ = "resident_active_kind"

    resident_id: uuid.UUID = Field(primary_key=True)
    kind: str = Field(primary_key=True, max_length=30)
    placement_id: uuid.UUID = Field(foreign_key="placement.id", unique=True)


class PendingDisclosure(Base, table=True):
    """The consent a resident gave by accepting, to be recorded in the registry: written in the
    accept transaction, delivered (and retried) in the background, kept after delivery."""

    __tablename__ = "pending_disclosure"
    __table_args__ = (UniqueConstraint("placement_id"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    placement_id: uuid.UUID = Field(foreign_key="placement.id")
    resident_id: uuid.UUID
    org_id: str = Field(max_length=64)
    valid_until: date
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(sa_column=ts_column(nullable=False))
    next_attempt_at: datetime = Field(sa_column=ts_column(nullable=False, index=True))
    delivered_at: datetime | None = Field(default=None, sa_column=ts_column())


class PlacementCreate(BaseModel):
    # Status, owner and timestamps are the engine's: a client naming them is refused.
    model_config = ConfigDict(extra="forbid")

    resident_id: uuid.UUID
    opportunity_id: uuid.UUID


class PlacementPublic(BaseModel):
    id: uuid.UUID
    version: int
    status: str
    resident_id: uuid.UUID
    opportunity_id: uuid.UUID
    run_id: uuid.UUID | None
    provider_org_id: str
    provider_org_type: str
    kind: str
    village_code: str
    district_code: str
    grant_amount_idr: int | None
    score: float | None
    proposed_at: datetime | None
    offered_at: datetime | None
    accepted_at: datetime | None
    started_at: datetime | None
    completed_at: datetime | None
    ended_at: datetime | None
    decided_by: Literal["resident", "proxy"] | None = None


class TransitionPublic(BaseModel):
    from_status: str | None
    to_status: str
    version: int
    org_type: str
    at: datetime
    decided_by: Literal["resident", "proxy"] | None = None


class ResidentDecision(BaseModel):
    """The resident's own answer to an offer, relayed by the registry from their SMS reply:
    the placement must be this resident's, or it is unknown."""

    model_config = ConfigDict(extra="forbid")

    resident_id: uuid.UUID
    decision: Literal["accept", "decline"]


class PlacementDetail(PlacementPublic):
    history: list[TransitionPublic]


class DisclosureProof(BaseModel):
    """What the registry checks a disclosure against (docs/contracts.md): the placement's
    provider, resident and status, ids only."""

    placement_id: uuid.UUID
    org_id: str
    resident_id: uuid.UUID
    status: str
