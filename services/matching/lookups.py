"""Lookups for frontends, over the same rules and scores as a run: why (not) a pair,
recommended opportunities for a resident, ranked candidates for an opportunity."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from services.matching.access import governs_resident, in_region, is_programme, owns
from services.matching.eligibility.rules import (
    REASON_TEXT,
    OpportunityFacts,
    Reason,
    check,
    opportunity_reasons,
    resident_reasons,
)
from services.matching.eligibility.service import (
    load_open_opportunities,
    load_residents,
    opportunity_facts,
)
from services.matching.placements.models import Placement
from services.matching.readmodel.models import OpportunityView, ResidentView
from services.matching.scoring.service import Policy, pair_features, score_pairs
from services.matching.settings import MatchingSettings
from shared.kit.pagination import PageParams, decode_cursor, encode_cursor
from shared.kit.problems import NotFound, UnprocessableEntity
from shared.kit.tokens import Principal
from shared.programme.scopes import LOCAL_GOVERNMENT_TYPES


class ReasonPublic(BaseModel):
    code: str
    message: str


# Score parts that tell of the opportunity's needs, not of the resident: all a provider gets.
# The others are the resident's attributes in another unit (welfare_decile is (11 - decile) /
# 10, village_priority the rank, distance the village, waiting_time the verification date),
# and the total score is a known weighted sum of them, so a provider gets no score either.
PROVIDER_FEATURES = frozenset({"skills_match", "training_gap"})


def _for_caller(
    governs: bool, score: float, features: dict[str, float]
) -> tuple[float | None, dict[str, float]]:
    if governs:
        return score, features
    return None, {k: v for k, v in features.items() if k in PROVIDER_FEATURES}


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


def _reasons(reasons: list[Reason]) -> list[ReasonPublic]:
    return [ReasonPublic(code=r.value, message=REASON_TEXT[r]) for r in reasons]


def _offset(page: PageParams) -> int:
    if not page.cursor:
        return 0
    (offset,) = decode_cursor(page.cursor, 1)
    if not isinstance(offset, int) or offset < 0:
        raise UnprocessableEntity(["query", "cursor"], "not a cursor this endpoint issued")
    return offset


def _slice(items: list[Any], page: PageParams) -> tuple[list[Any], str | None]:
    start = _offset(page)
    chunk = items[start : start + page.limit]
    more = start + page.limit < len(items)
    return chunk, encode_cursor([start + page.limit]) if more else None


def _opportunity(
    session: Session, principal: Principal, opportunity_id: uuid.UUID
) -> OpportunityView:
    row = session.get(OpportunityView, opportunity_id)
    providerish = not is_programme(principal) and principal.org_type not in LOCAL_GOVERNMENT_TYPES
    if row is None or (providerish and not owns(principal, row.provider_org_id)):
        raise NotFound("no such opportunity")
    return row


def explain(
    session: Session,
    principal: Principal,
    resident_id: uuid.UUID,
    opportunity_id: uuid.UUID,
    settings: MatchingSettings,
) -> Explanation:
    """Why a pair is or is not eligible, and its score. Whoever governs the resident (agencies,
    its village or district) may ask about any opportunity. A provider asks about its own
    opportunity only for a resident who is its candidate (eligible for it now, as
    ``candidates`` lists them) or was placed on it: for anyone else, varying its draft's rules
    would read the resident's age, sex, village and decile off the answers (issue 13, item 13).
    Such a resident answers exactly as one that does not exist."""
    opportunity = _opportunity(session, principal, opportunity_id)
    resident_row = session.get(ResidentView, resident_id)
    if resident_row is None:
        raise NotFound("no such resident")
    governs = governs_resident(principal, resident_row.village_code)
    if not governs and not owns(principal, opportunity.provider_org_id):
        raise NotFound("no such resident")
    resident = load_residents(session, ids=[resident_id])[0]
    facts = opportunity_facts(session, [opportunity])[0]
    today = date.today()
    reasons = check(resident, facts, today, frozenset(settings.eligible_resident_statuses))
    if not governs and reasons and not _placed_on(session, resident_id, opportunity_id):
        raise NotFound("no such resident")
    score, features = pair_features(resident, facts, today, Policy.from_settings(settings))
    # The answer holds rule outcomes and score parts, never the resident's attributes.
    shown_score, shown_features = _for_caller(governs, score, features)
    return Explanation(
        resident_id=resident_id,
        opportunity_id=opportunity_id,
        eligible=not reasons,
        reasons=_reasons(reasons),
        score=shown_score,
        features=shown_features,
    )


def _placed_on(session: Session, resident_id: uuid.UUID, opportunity_id: uuid.UUID) -> bool:
    """Whether the resident has a placement on the opportunity, in any status: its provider
    lists that placement already."""
    return (
        session.scalars(
            select(col(Placement.id))
            .where(
                col(Placement.resident_id) == resident_id,
                col(Placement.opportunity_id) == opportunity_id,
            )
            .limit(1)
        ).first()
        is not None
    )


def recommendations(
    session: Session,
    principal: Principal,
    resident_id: uuid.UUID,
    settings: MatchingSettings,
    page: PageParams,
) -> Recommendations:
    row = session.get(ResidentView, resident_id)
    if row is None or not governs_resident(principal, row.village_code):
        raise NotFound("no such resident")
    resident = load_residents(session, ids=[resident_id])[0]
    policy = Policy.from_settings(settings)
    reasons = resident_reasons(resident, frozenset(policy.eligible_statuses))
    today = date.today()
    if reasons:
        return Recommendations(
            resident_id=resident_id, eligible=False, reasons=_reasons(reasons), items=[]
        )
    opportunities = load_open_opportunities(session, today)
    titles = {
        o.id: (o.title, o.location_village_code)
        for o in session.scalars(
            select(OpportunityView).where(
                col(OpportunityView.id).in_([f.id for f in opportunities])
            )
        )
    }
    ranked = [
        Recommendation(
            opportunity_id=p.opportunity.id,
            title=titles[p.opportunity.id][0],
            kind=p.opportunity.kind,
            provider_org_id=p.opportunity.provider_org_id,
            location_village_code=titles[p.opportunity.id][1],
            score=p.score,
            features=p.features,
        )
        for p in score_pairs([resident], opportunities, today, policy)
    ]
    items, next_cursor = _slice(ranked, page)
    return Recommendations(
        resident_id=resident_id, eligible=True, reasons=[], items=items, next_cursor=next_cursor
    )


def candidates(
    session: Session,
    principal: Principal,
    opportunity_id: uuid.UUID,
    settings: MatchingSettings,
    page: PageParams,
) -> Candidates:
    opportunity = _opportunity(session, principal, opportunity_id)
    today = date.today()
    policy = Policy.from_settings(settings)
    facts: OpportunityFacts = opportunity_facts(session, [opportunity])[0]
    if opportunity_reasons(facts, today):
        return Candidates(opportunity_id=opportunity_id, items=[])
    region = principal.region if in_region(principal, principal.region or "") else None
    residents = load_residents(
        session,
        area_codes=list(facts.eligible_area_codes) or None,
        region=region,
        eligible_statuses=list(policy.eligible_statuses),
    )
    pairs = score_pairs(residents, [facts], today, policy)
    rows = {
        r.id: r
        for r in session.scalars(
            select(ResidentView).where(
                col(ResidentView.id).in_(
                    [p.resident.id for p in pairs[: _offset(page) + page.limit]]
                )
            )
        )
    }
    chunk, next_cursor = _slice(pairs, page)
    items = []
    for pair in chunk:
        row = rows[pair.resident.id]
        governs = governs_resident(principal, row.village_code)
        score, features = _for_caller(governs, pair.score, pair.features)
        items.append(
            Candidate(
                resident_id=row.id,
                village_code=row.village_code if governs else None,
                district_code=row.district_code if governs else None,
                age=row.age if governs else None,
                sex=row.sex if governs else None,
                education_level=row.education_level,
                skills=list(row.skills or []),
                welfare_decile=row.welfare_decile if governs else None,
                priority_rank=row.priority_rank if governs else None,
                score=score,
                features=features,
            )
        )
    return Candidates(opportunity_id=opportunity_id, items=items, next_cursor=next_cursor)
