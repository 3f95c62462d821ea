"""Lookups for frontends: explain, recommendations, candidates."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from services.matching.deps import MatchingReader, SettingsDep
from services.matching.scoring import service
from services.matching.scoring.models import Candidates, Explanation, Recommendations
from shared.kit.database import SessionDep
from shared.kit.pagination import PageParamsDep
from shared.kit.problems import problem_responses

router = APIRouter(prefix="/v1/matching", tags=["matching"])


@router.get(
    "/explain",
    response_model=Explanation,
    responses=problem_responses(404, 422),
    summary="Why a resident is or is not eligible for an opportunity, and the pair's score",
)
def explain(
    resident_id: uuid.UUID,
    opportunity_id: uuid.UUID,
    session: SessionDep,
    settings: SettingsDep,
    principal: MatchingReader,
) -> Explanation:
    return service.explain(session, principal, resident_id, opportunity_id, settings)


@router.get(
    "/recommendations",
    response_model=Recommendations,
    responses=problem_responses(404, 422),
    summary="Open opportunities for one resident, best first, with each score's features",
)
def recommendations(
    resident_id: uuid.UUID,
    session: SessionDep,
    settings: SettingsDep,
    page: PageParamsDep,
    principal: MatchingReader,
) -> Recommendations:
    return service.recommendations(session, principal, resident_id, settings, page)


@router.get(
    "/candidates",
    response_model=Candidates,
    responses=problem_responses(404, 422),
    summary="Eligible residents for one opportunity, best first (anonymised)",
)
def candidates(
    opportunity_id: uuid.UUID,
    session: SessionDep,
    settings: SettingsDep,
    page: PageParamsDep,
    principal: MatchingReader,
) -> Candidates:
    return service.candidates(session, principal, opportunity_id, settings, page)
