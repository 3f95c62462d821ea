"""``/v1/residents/{id}/graduation``: whether the resident's household graduated and why (or
what is missing); ``.../graduation/revoke``: an agency's revocation with a reason."""

from __future__ import annotations

from fastapi import APIRouter

from services.registry.deps import PurposeDep, ResidentsReader, ResidentsWriter, SettingsDep
from services.registry.graduation import service
from services.registry.graduation.models import GraduationPublic, RevokeIn
from shared.kit.database import SessionDep
from shared.kit.problems import problem_responses

router = APIRouter(prefix="/v1/residents", tags=["graduation"])


@router.get(
    "/{resident_id}/graduation",
    responses=problem_responses(403, 404),
    summary="Whether the household graduated, each condition of the rule and what is missing",
    description="Recorded in the audit trail (`X-Purpose` states why).",
)
def get_graduation(
    resident_id: str,
    session: SessionDep,
    principal: ResidentsReader,
    settings: SettingsDep,
    purpose: PurposeDep,
) -> GraduationPublic:
    return service.read(session, principal, resident_id, settings, purpose)


@router.post(
    "/{resident_id}/graduation/revoke",
    responses=problem_responses(403, 404, 409, 422),
    summary="Revoke the household's graduation (secretariat and agencies), with a reason",
)
def revoke_graduation(
    resident_id: str,
    data: RevokeIn,
    session: SessionDep,
    principal: ResidentsWriter,
    settings: SettingsDep,
) -> GraduationPublic:
    return service.revoke(session, principal, resident_id, data.reason, settings)
