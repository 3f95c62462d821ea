"""``POST /v1/residents/{id}/follow-ups``."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from services.registry.deps import SettingsDep
from services.registry.follow_ups import service
from services.registry.follow_ups.models import FollowUpCreate, FollowUpPublic
from services.registry.residents.models import as_utc
from shared.auth import require_scopes
from shared.database import SessionDep
from shared.problems import problem_responses
from shared.scopes import RESIDENTS_FOLLOW_UP

router = APIRouter(prefix="/v1/residents", tags=["follow-ups"])


@router.post(
    "/{resident_id}/follow-ups",
    status_code=status.HTTP_201_CREATED,
    responses={200: {"description": "Already recorded"}, **problem_responses(404, 422)},
    summary="Record a follow-up visit",
)
def create_follow_up(
    resident_id: str,
    data: FollowUpCreate,
    session: SessionDep,
    principal: require_scopes(RESIDENTS_FOLLOW_UP),  # type: ignore[valid-type]
    settings: SettingsDep,
    response: Response,
) -> FollowUpPublic:
    follow_up, resident, created = service.record(session, principal, resident_id, data, settings)
    if not created:
        response.status_code = status.HTTP_200_OK
    return FollowUpPublic(
        id=follow_up.id,
        resident_id=follow_up.resident_id,
        visited_on=follow_up.visited_on,
        employment_status=follow_up.employment_status,
        monthly_income_idr=follow_up.monthly_income_idr,
        household_size=follow_up.household_size,
        income_per_member_idr=follow_up.income_per_member_idr,
        notes=follow_up.notes,
        organisation_id=follow_up.organisation_id,
        recorded_at=as_utc(follow_up.recorded_at),
        resident_status=resident.status,
    )
