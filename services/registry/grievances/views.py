"""``/v1/grievances``: open, list, read and move on complaints."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from services.registry.deps import GrievanceHandler, SettingsDep
from services.registry.grievances import service
from services.registry.grievances.models import (
    GrievanceCreate,
    GrievanceDetail,
    GrievancePublic,
    GrievanceStatus,
    GrievanceUpdate,
)
from shared.kit.database import SessionDep
from shared.kit.pagination import Page, PageParamsDep
from shared.kit.problems import problem_responses

router = APIRouter(prefix="/v1/grievances", tags=["grievances"])


@router.post(
    "",
    response_model=GrievancePublic,
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(403, 422),
    summary="Open a complaint (a village for its region, an agency, a provider of a placement)",
)
def create_grievance(
    body: GrievanceCreate, session: SessionDep, settings: SettingsDep, principal: GrievanceHandler
) -> GrievancePublic:
    return GrievancePublic.model_validate(service.create(session, principal, body, settings))


@router.get("", response_model=Page[GrievancePublic], responses=problem_responses(403, 422))
def list_grievances(
    session: SessionDep,
    page: PageParamsDep,
    principal: GrievanceHandler,
    grievance_status: Annotated[GrievanceStatus | None, Query(alias="status")] = None,
) -> Page[GrievancePublic]:
    items, cursor = service.list_grievances(session, principal, page, grievance_status)
    return Page(items=items, next_cursor=cursor)


@router.get("/{grievance_id}", response_model=GrievanceDetail, responses=problem_responses(404))
def read_grievance(
    grievance_id: str, session: SessionDep, principal: GrievanceHandler
) -> GrievanceDetail:
    return service.detail(session, principal, grievance_id)


@router.patch(
    "/{grievance_id}",
    response_model=GrievancePublic,
    responses=problem_responses(403, 404, 422),
    summary="Assign, move on or resolve a complaint; the resident who opened it is told",
)
def update_grievance(
    grievance_id: str,
    body: GrievanceUpdate,
    session: SessionDep,
    settings: SettingsDep,
    principal: GrievanceHandler,
) -> GrievancePublic:
    return GrievancePublic.model_validate(
        service.update(session, principal, grievance_id, body, settings)
    )
