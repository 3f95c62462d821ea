"""``GET /v1/skills``: the vocabulary every skills field is checked against."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.opportunities.skills import service
from services.opportunities.skills.models import SkillPublic
from shared.kit.auth import CurrentPrincipal
from shared.kit.pagination import Page, PageParamsDep

router = APIRouter(prefix="/v1/skills", tags=["skills"])


@router.get("", response_model=Page[SkillPublic], summary="The skills vocabulary")
def list_skills(
    _principal: CurrentPrincipal,
    page: PageParamsDep,
    group: Annotated[str | None, Query(max_length=40, description="e.g. cement, fisheries")] = None,
    q: Annotated[
        str | None, Query(min_length=2, max_length=60, description="Part of a slug or label")
    ] = None,
) -> Page[SkillPublic]:
    items, cursor = service.browse(group, q, page)
    return Page[SkillPublic](items=items, next_cursor=cursor)
