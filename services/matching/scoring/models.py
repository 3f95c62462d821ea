"""What the lookups answer: rule outcomes and score parts, and for those who govern a resident
some of its attributes; never its NIK, name, contact or birth date."""

from __future__ import annotations

import uuid

from pydantic import BaseModel


class ReasonPublic(BaseModel):
    code: str
    message: str


class Explanation(BaseModel):
    resident_id: uuid.UUID
    opportunity_id: uuid.UUID
    eligible: bool
    reasons: list[ReasonPublic]
    # Null for a provider (see PROVIDER_FEATURES).
    score: float | None
    features: dict[str, float]


class Recommendation(BaseModel):
    opportunity_id: uuid.UUID
    title: str
    kind: str
    provider_org_id: str
    location_village_code: str | None
    score: float
    features: dict[str, float]


class Recommendations(BaseModel):
    resident_id: uuid.UUID
    eligible: bool
    reasons: list[ReasonPublic]
    items: list[Recommendation]
    next_cursor: str | None = None


class Candidate(BaseModel):
    """An eligible resident: no NIK, name, contact or birth date for anyone. Village, district,
    age, sex, decile and priority are only for those who govern the resident; a provider gets
    them as null (with the resident id they would tell it who is poor, how old and where:
    personal data under UU PDP, and what the explanation withholds too)."""

    resident_id: uuid.UUID
    village_code: str | None
    district_code: str | None
    age: int | None
    sex: str | None
    education_level: str | None
    skills: list[str]
    welfare_decile: int | None
    priority_rank: int | None
    # Null for a provider (see PROVIDER_FEATURES); the items are still ranked best first.
    score: float | None
    features: dict[str, float]


class Candidates(BaseModel):
    opportunity_id: uuid.UUID
    items: list[Candidate]
    next_cursor: str | None = None
