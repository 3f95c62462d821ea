"""Matching runs (rounds) and their proposals, each with its score broken down by feature."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, field_validator
from pydantic import Field as PydanticField
from sqlalchemy import UniqueConstraint
from sqlmodel import Field

from services.matching.eligibility.rules import KINDS
from services.matching.scoring.features import validate_weights
from services.matching.settings import AllocationPolicy
from services.matching.tables import Base, json_column, ts_column
from shared.programme.regions import level_of

RunStatus = Literal["queued", "running", "succeeded", "failed"]


class Run(Base, table=True):
    __tablename__ = "matching_run"
    __table_args__ = (UniqueConstraint("requested_by_org", "idempotency_key"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    status: str = Field(max_length=20, index=True)
    dry_run: bool = False
    district_codes: list[str] = Field(default_factory=list, sa_column=json_column())
    kinds: list[str] = Field(default_factory=list, sa_column=json_column())
    policy: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    run_date: date
    requested_by_org: str = Field(max_length=64)
    requested_by_type: str = Field(max_length=30)
    idempotency_key: str | None = Field(default=None, max_length=100)
    statistics: dict[str, Any] | None = Field(default=None, sa_column=json_column(nullable=True))
    error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(sa_column=ts_column(nullable=False))
    started_at: datetime | None = Field(default=None, sa_column=ts_column())
    finished_at: datetime | None = Field(default=None, sa_column=ts_column())


class Proposal(Base, table=True):
    __tablename__ = "matching_proposal"
    __table_args__ = (UniqueConstraint("run_id", "rank"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    run_id: uuid.UUID = Field(foreign_key="matching_run.id", index=True)
    rank: int
    resident_id: uuid.UUID = Field(index=True)
    opportunity_id: uuid.UUID = Field(index=True)
    kind: str = Field(max_length=30)
    village_code: str = Field(max_length=20)
    score: float
    features: dict[str, float] = Field(default_factory=dict, sa_column=json_column())
    placement_id: uuid.UUID | None = None


class PolicyOverrides(BaseModel):
    model_config = ConfigDict(extra="forbid")

    weights: dict[str, float] | None = None
    top_k: int | None = PydanticField(default=None, ge=1, le=200)
    max_proposals_per_resident: int | None = PydanticField(default=None, ge=1, le=5)
    village_fair_share: bool | None = None
    priority_weighting: float | None = PydanticField(default=None, ge=0, le=10)
    refill_passes: int | None = PydanticField(default=None, ge=0, le=5)
    allocation: AllocationPolicy | None = None

    @field_validator("weights")
    @classmethod
    def _weights(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        return None if value is None else validate_weights(value)


class RunCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    district_codes: list[str] = PydanticField(min_length=1, max_length=50)
    kinds: list[str] = PydanticField(default_factory=lambda: list(KINDS), min_length=1)
    dry_run: bool = False
    run_date: date | None = None
    # The allocation policy by name ("priority", the default, or "max_score"), or the policy's
    # overrides, the allocation among them.
    policy: PolicyOverrides = PydanticField(default_factory=PolicyOverrides)

    @field_validator("policy", mode="before")
    @classmethod
    def _policy_by_name(cls, value: Any) -> Any:
        return {"allocation": value} if isinstance(value, str) else value

    @field_validator("district_codes")
    @classmethod
    def _districts(cls, value: list[str]) -> list[str]:
        for code in value:
            if level_of(code) != "district" or not all(p.isdigit() for p in code.split(".")):
                raise ValueError(f"{code!r} is not a district code such as 63.02.17")
        return sorted(set(value))

    @field_validator("kinds")
    @classmethod
    def _kinds(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(KINDS))
        if unknown:
            raise ValueError(f"unknown kind {', '.join(unknown)}; known: {', '.join(KINDS)}")
        return sorted(set(value))


class RunPublic(BaseModel):
    id: uuid.UUID
    status: str
    dry_run: bool
    district_codes: list[str]
    kinds: list[str]
    policy: dict[str, Any]
    run_date: date
    statistics: dict[str, Any] | None
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class ProposalPublic(BaseModel):
    id: uuid.UUID
    rank: int
    resident_id: uuid.UUID
    opportunity_id: uuid.UUID
    kind: str
    village_code: str
    score: float
    features: dict[str, float]
    placement_id: uuid.UUID | None
