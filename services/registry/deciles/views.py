"""``GET /v1/residents/{id}/deciles``: the resident's decile history, edition by edition."""

from __future__ import annotations

from fastapi import APIRouter

from services.registry.deciles import service
from services.registry.deciles.models import DecileEntry
from services.registry.deps import Reading
from shared.kit.pagination import Page, PageParamsDep
from shared.kit.problems import problem_responses

router = APIRouter(prefix="/v1/residents", tags=["residents"])


@router.get(
    "/{resident_id}/deciles",
    responses=problem_responses(403, 404),
    summary="The resident's welfare deciles, one per register edition or edit",
)
def resident_deciles(resident_id: str, desk: Reading, page: PageParamsDep) -> Page[DecileEntry]:
    items, cursor = service.history(
        desk.session, desk.principal, resident_id, page, purpose=desk.purpose
    )
    return Page(items=items, next_cursor=cursor)
