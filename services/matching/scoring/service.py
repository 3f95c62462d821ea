"""Scoring: the policy of a run (settings, overridable per run), scored pairs, and the
lookups for frontends over the same rules and scores as a run: why (not) a pair, recommended
opportunities for a resident, ranked candidates for an opportunity."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from services.matching.access import governs_resident, in_region, is_programme, owns
from services.matching.allocation.arrays import RoundArrays, build_arrays
from services.matching.allocation.engine import generate_candidates, score_block
from services.matching.eligibility.rules import (
    REASON_TEXT,
    OpportunityFacts,
    Reason,
    ResidentFacts,
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
from services.matching.scoring.features import FEATURES, weight_vector
from services.matching.scoring.models import (
    Candidate,
    Candidates,
    Explanation,
    ReasonPublic,
    Recommendation,
    Recommendations,
)
from services.matching.settings import MatchingSettings
from shared.kit.pagination import PageParams, decode_cursor, encode_cursor
from shared.kit.problems import NotFound, UnprocessableEntity
from shared.kit.tokens import Principal
from shared.programme.organisations import LOCAL_GOVERNMENT_TYPES


@dataclass(frozen=True)
class Policy:
    weights: dict[str, float]
    top_k: int
    max_proposals_per_resident: int
    village_fair_share: bool
    priority_rank_horizon: int
    waiting_horizon_days: int
    eligible_statuses: tuple[str, ...]
    # Later additions keep defaults, so runs queued before them still execute.
    priority_weighting: float = 1.0
    refill_passes: int = 2
    # How places are allocated: "priority" (deferred acceptance, zero justified envy) or
    # "max_score" (the min-cost flow of the highest total priority-weighted score).
    allocation: str = "priority"

    @classmethod
    def from_settings(
        cls, settings: MatchingSettings, overrides: dict[str, Any] | None = None
    ) -> Policy:
        overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
        weights = {name: float(settings.weights.get(name, 0.0)) for name in FEATURES}
        weights.update(overrides.get("weights") or {})
        return cls(
            weights=weights,
            top_k=int(overrides.get("top_k", settings.top_k)),
            max_proposals_per_resident=int(
                overrides.get("max_proposals_per_resident", settings.max_proposals_per_resident)
            ),
            village_fair_share=bool(
                overrides.get("village_fair_share", settings.village_fair_share)
            ),
            priority_weighting=float(
                overrides.get("priority_weighting", settings.priority_weighting)
            ),
            refill_passes=int(overrides.get("refill_passes", settings.refill_passes)),
            allocation=str(overrides.get("allocation", settings.allocation_policy)),
            priority_rank_horizon=settings.priority_rank_horizon,
            waiting_horizon_days=settings.waiting_horizon_days,
            eligible_statuses=tuple(settings.eligible_resident_statuses),
        )

    def round_arrays(
        self,
        residents: Sequence[ResidentFacts],
        opportunities: Sequence[OpportunityFacts],
        run_date: date,
    ) -> RoundArrays:
        """The engine's arrays of these facts under this policy's horizons and weighting: a
        run and a lookup score a pair the same way."""
        return build_arrays(
            residents,
            opportunities,
            run_date,
            priority_rank_horizon=self.priority_rank_horizon,
            waiting_horizon_days=self.waiting_horizon_days,
            priority_weighting=self.priority_weighting,
        )

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["eligible_statuses"] = list(self.eligible_statuses)
        return data


@dataclass(frozen=True)
class ScoredPair:
    resident: ResidentFacts
    opportunity: OpportunityFacts
    score: float
    features: dict[str, float]


def contributions_dict(row: np.ndarray) -> dict[str, float]:
    return {name: round(float(value), 2) for name, value in zip(FEATURES, row, strict=True)}


def score_pairs(
    residents: Sequence[ResidentFacts],
    opportunities: Sequence[OpportunityFacts],
    run_date: date,
    policy: Policy,
) -> list[ScoredPair]:
    """Every pair that passes the pair rules, best first, through the engine's own code path.
    Callers pass residents and opportunities that already pass their own rules."""
    if not residents or not opportunities:
        return []
    arrays = policy.round_arrays(residents, opportunities, run_date)
    candidates = generate_candidates(
        arrays.residents,
        arrays.resident_scores,
        arrays.opportunities,
        arrays.village_codes,
        weight_vector(policy.weights),
        top_k=len(opportunities),
    )
    pairs = [
        ScoredPair(
            resident=residents[int(i)],
            opportunity=opportunities[int(j)],
            score=round(float(contrib.sum()), 2),
            features=contributions_dict(contrib),
        )
        for i, j, contrib in zip(
            candidates.resident,
            candidates.opportunity,
            candidates.contributions,
            strict=True,
        )
    ]
    pairs.sort(key=lambda p: (-p.score, str(p.resident.id), str(p.opportunity.id)))
    return pairs


def pair_features(
    resident: ResidentFacts, opportunity: OpportunityFacts, run_date: date, policy: Policy
) -> tuple[float, dict[str, float]]:
    """Score and contributions of one pair, whatever the rules say (for "why not")."""
    arrays = policy.round_arrays([resident], [opportunity], run_date)
    contrib = score_block(
        arrays.residents,
        arrays.resident_scores,
        arrays.opportunities,
        np.array([0], dtype=np.int64),
        np.array([0], dtype=np.int32),
        weight_vector(policy.weights),
    )[0, 0]
    return round(float(contrib.sum()), 2), contributions_dict(contrib)


# Lookups for frontends --------------------------------------------------------------------


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
