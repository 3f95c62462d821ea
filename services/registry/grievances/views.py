"""``/v1/grievances``: open, list, read and move on complaints."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from services.registry.deps import GrievanceCall
from services.registry.grievances import service
from services.registry.grievances.models import (
    GrievanceCreate,
    GrievanceDetail,
    GrievancePublic,
    GrievanceStatus,
    GrievanceUpdate,
)
from shared.kit.pagination import Page, PageParamsDep
from shared.kit.problems import problem_responses

router = APIRouter(prefix="/v1/grievances", tags=["grievances"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(403, 422),
    summary="Open a complaint (a village for its region, an agency, a provider of a placement)",
)
def create_grievance(body: GrievanceCreate, call: GrievanceCall) -> GrievancePublic:
    return GrievancePublic.model_validate(
        service.create(call.session, call.principal, body, call.settings)
    )


@router.get("", responses=problem_responses(403, 422))
def list_grievances(
    call: GrievanceCall,
    page: PageParamsDep,
    grievance_status: Annotated[GrievanceStatus | None, Query(alias="status")] = None,
) -> Page[GrievancePublic]:
    items, cursor = service.list_grievances(call.session, call.principal, page, grievance_status)
    return Page(items=items, next_cursor=cursor)


@router.get("/{grievance_id}", responses=problem_responses(404))
def read_grievance(grievance_id: str, call: GrievanceCall) -> GrievanceDetail:
    return service.detail(call.session, call.principal, grievance_id)


@router.patch(
    "/{grievance_id}",
    responses=problem_responses(403, 404, 422),
    summary="Assign, move on or resolve a complaint; the resident who opened it is told",
)
def update_grievance(
    grievance_id: str, body: GrievanceUpdate, call: GrievanceCall
) -> GrievancePublic:
    return GrievancePublic.model_validate(
        service.update(call.session, call.principal, grievance_id, body, call.settings)
    )
