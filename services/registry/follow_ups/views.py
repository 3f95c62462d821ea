"""``/v1/residents/{id}/follow-ups``: record a visit, list a resident's visits."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from services.registry.deps import FollowUpCall, Reading
from services.registry.follow_ups import plan, service
from services.registry.follow_ups.models import (
    DueVisit,
    FollowUpCreate,
    FollowUpPublic,
    FollowUpVisit,
)
from shared.kit.pagination import Page, PageParamsDep
from shared.kit.problems import problem_responses
from shared.kit.routes import ProseRoute, answer_retry, page_of, retry_responses

# Each route's docstring is its description in the API docs (ProseRoute).
router = APIRouter(prefix="/v1/residents", tags=["follow-ups"], route_class=ProseRoute)
due_router = APIRouter(prefix="/v1/follow-ups", tags=["follow-ups"], route_class=ProseRoute)


@router.post(
    "/{resident_id}/follow-ups",
    status_code=status.HTTP_201_CREATED,
    responses=retry_responses("Already recorded", 404, 409, 422),
    summary="Record a follow-up visit",
)
def create_follow_up(
    resident_id: str, data: FollowUpCreate, call: FollowUpCall, response: Response
) -> FollowUpPublic:
    """`visited_on` is no later than today in Asia/Makassar. A provider names its
    `placement_id` (a placement of this resident disclosed to it) and dates the visit no
    earlier than the placement's start; an agency may record a visit late, with its real
    date, and may name the placement it was about."""
    follow_up, resident, created = service.record(
        call.session, call.principal, resident_id, data, call.settings
    )
    answer_retry(response, created)
    return FollowUpPublic(
        **service.to_visit(follow_up).model_dump(), resident_status=resident.status
    )


@router.get(
    "/{resident_id}/follow-ups",
    responses=problem_responses(404, 422),
    summary="The resident's follow-up visits, newest first",
)
def list_follow_ups(resident_id: str, desk: Reading, page: PageParamsDep) -> Page[FollowUpVisit]:
    """A provider sees only the visits about its placements disclosed to it. A page that
    shows visits is recorded in the audit trail (`X-Purpose` states why)."""
    return page_of(
        service.list_for_resident(desk.session, desk.principal, resident_id, page, desk.purpose)
    )


@due_router.get(
    "/due",
    responses=problem_responses(403, 422),
    summary="Visits the plan expects, earliest first",
)
def list_due(
    desk: Reading,
    page: PageParamsDep,
    overdue: Annotated[
        bool | None, Query(description="Only past due (true) or not (false)")
    ] = None,
    district_code: Annotated[str | None, Query(max_length=8)] = None,
    resident_id: Annotated[str | None, Query(max_length=36)] = None,
) -> Page[DueVisit]:
    """Written when a placement starts (matching's feed), at the plan's offsets from the
    start; a recorded visit closes the entry it answers. A provider sees the entries
    assigned to it, a local government those of its region."""
    rows, cursor = plan.list_due(
        desk.session,
        desk.principal,
        page,
        overdue=overdue,
        district_code=district_code,
        resident_id=resident_id,
    )
    return Page(items=[DueVisit.model_validate(row) for row in rows], next_cursor=cursor)
