"""Lookups for frontends: explain, recommendations, candidates."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from services.matching import lookups
from services.matching.deps import SettingsDep
from shared.kit.auth import require_scopes
from shared.kit.database import SessionDep
from shared.kit.pagination import PageParamsDep
from shared.kit.problems import problem_responses
from shared.programme.scopes import MATCHING_READ

router = APIRouter(prefix="/v1/matching", tags=["matching"])
ReadPrincipal = require_scopes(MATCHING_READ)


@router.get(
    "/explain",
    response_model=lookups.Explanation,
    responses=problem_responses(404, 422),
    summary="Why a resident is or is not eligible for an opportunity, and the pair's score",
)
def explain(
    resident_id: uuid.UUID,
    opportunity_id: uuid.UUID,
    session: SessionDep,
    settings: SettingsDep,
    principal: ReadPrincipal,  # type: ignore[valid-type]
) -> lookups.Explanation:
    return lookups.explain(session, principal, resident_id, opportunity_id, settings)


@router.get(
    "/recommendations",
    response_model=lookups.Recommendations,
    responses=problem_responses(404, 422),
    summary="Open opportunities for one resident, best first, with each score's features",
)
def recommendations(
    resident_id: uuid.UUID,
    session: SessionDep,
    settings: SettingsDep,
    page: PageParamsDep,
    principal: ReadPrincipal,  # type: ignore[valid-type]
) -> lookups.Recommendations:
    return lookups.recommendations(session, principal, resident_id, settings, page)


@router.get(
    "/candidates",
    response_model=lookups.Candidates,
    responses=problem_responses(404, 422),
    summary="Eligible residents for one opportunity, best first (anonymised)",
)
def candidates(
    opportunity_id: uuid.UUID,
    session: SessionDep,
    settings: SettingsDep,
    page: PageParamsDep,
    principal: ReadPrincipal,  # type: ignore[valid-type]
) -> lookups.Candidates:
    return lookups.candidates(session, principal, opportunity_id, settings, page)
