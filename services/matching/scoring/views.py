"""Lookups for frontends: explain, recommendations, candidates."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from services.matching.deps import Consulting
from services.matching.scoring import service
from services.matching.scoring.models import Candidates, Explanation, Recommendations
from shared.kit.pagination import PageParamsDep
from shared.kit.problems import problem_responses

# Every lookup names a resident or an opportunity the caller may not see (404) or a bad cursor
# or id (422).
router = APIRouter(prefix="/v1/matching", tags=["matching"], responses=problem_responses(404, 422))


@router.get(
    "/explain",
    response_model=Explanation,
    summary="Why a resident is or is not eligible for an opportunity, and the pair's score",
)
def explain(resident_id: uuid.UUID, opportunity_id: uuid.UUID, lookup: Consulting) -> Explanation:
    return service.explain(
        lookup.session, lookup.principal, resident_id, opportunity_id, lookup.settings
    )


@router.get(
    "/recommendations",
    response_model=Recommendations,
    summary="Open opportunities for one resident, best first, with each score's features",
)
def recommendations(
    resident_id: uuid.UUID, page: PageParamsDep, lookup: Consulting
) -> Recommendations:
    return service.recommendations(
        lookup.session, lookup.principal, resident_id, lookup.settings, page
    )


@router.get(
    "/candidates",
    response_model=Candidates,
    summary="Eligible residents for one opportunity, best first (anonymised)",
)
def candidates(opportunity_id: uuid.UUID, page: PageParamsDep, lookup: Consulting) -> Candidates:
    return service.candidates(
        lookup.session, lookup.principal, opportunity_id, lookup.settings, page
    )
