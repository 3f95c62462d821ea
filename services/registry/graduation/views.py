"""``/v1/residents/{id}/graduation``: whether the resident's household graduated and why (or
what is missing); ``.../graduation/revoke``: an agency's revocation with a reason."""

from __future__ import annotations

from fastapi import APIRouter

from services.registry.deps import Reading, WriteCall
from services.registry.graduation import service
from services.registry.graduation.models import GraduationPublic, RevokeIn
from shared.kit.problems import problem_responses
from shared.kit.routes import ProseRoute

# Each route's docstring is its description in the API docs (ProseRoute).
router = APIRouter(prefix="/v1/residents", tags=["graduation"], route_class=ProseRoute)


@router.get(
    "/{resident_id}/graduation",
    responses=problem_responses(403, 404),
    summary="Whether the household graduated, each condition of the rule and what is missing",
)
def get_graduation(resident_id: str, desk: Reading) -> GraduationPublic:
    """Recorded in the audit trail (`X-Purpose` states why)."""
    return service.read(desk.session, desk.principal, resident_id, desk.settings, desk.purpose)


@router.post(
    "/{resident_id}/graduation/revoke",
    responses=problem_responses(403, 404, 409, 422),
    summary="Revoke the household's graduation (secretariat and agencies), with a reason",
)
def revoke_graduation(resident_id: str, data: RevokeIn, call: WriteCall) -> GraduationPublic:
    return service.revoke(call.session, call.principal, resident_id, data.reason, call.settings)
