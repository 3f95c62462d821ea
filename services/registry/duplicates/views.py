"""``/v1/residents/duplicates``: review and resolve possible duplicates."""

from __future__ import annotations

from fastapi import APIRouter

from services.registry.deps import PurposeDep, SettingsDep
from services.registry.duplicates import service
from services.registry.duplicates.models import DuplicateGroup, DuplicateResolution
from services.registry.residents import service as residents
from services.registry.residents.models import ResidentPublic
from shared.auth import require_scopes
from shared.database import SessionDep
from shared.pagination import Page, PageParamsDep
from shared.problems import problem_responses
from shared.scopes import RESIDENTS_WRITE

router = APIRouter(prefix="/v1/residents/duplicates", tags=["duplicates"])


@router.get("", responses=problem_responses(403), summary="Possible duplicates to review")
def list_duplicates(
    session: SessionDep,
    principal: require_scopes(RESIDENTS_WRITE),  # type: ignore[valid-type]
    settings: SettingsDep,
    page: PageParamsDep,
    purpose: PurposeDep,
) -> Page[DuplicateGroup]:
    groups, cursor = service.list_groups(session, principal, page, settings, purpose)
    return Page(items=groups, next_cursor=cursor)


@router.post(
    "/resolve",
    responses=problem_responses(404, 422),
    summary="Merge possible duplicates into one resident, or dismiss them as different people",
)
def resolve_duplicates(
    data: DuplicateResolution,
    session: SessionDep,
    principal: require_scopes(RESIDENTS_WRITE),  # type: ignore[valid-type]
    settings: SettingsDep,
    purpose: PurposeDep,
) -> list[ResidentPublic]:
    members = service.resolve(session, principal, data, settings)
    return residents.present(
        session, principal, members, settings, action="duplicates.resolve", purpose=purpose
    )
