"""``POST /v1/residents/{id}/disclosures`` (internal services only)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from services.registry.deps import DisclosureRecorder
from services.registry.disclosures import service
from services.registry.disclosures.models import DisclosureCreate, DisclosurePublic
from shared.kit.database import DatabaseDep
from shared.kit.problems import problem_responses
from shared.kit.time import as_utc

router = APIRouter(prefix="/v1/residents", tags=["disclosures"])


@router.post(
    "/{resident_id}/disclosures",
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"description": "Already recorded"},
        **problem_responses(403, 404, 422, 503),
    },
    summary="Let a provider see a resident (matching service)",
)
async def create_disclosure(
    resident_id: str,
    data: DisclosureCreate,
    db: DatabaseDep,
    principal: DisclosureRecorder,
    request: Request,
    response: Response,
) -> DisclosurePublic:
    # The caller's own token asks matching: the registry holds no credentials of its own.
    disclosure, created = await service.record(
        db,
        request.app.state.matching,
        request.headers["authorization"],
        principal,
        resident_id,
        data,
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return DisclosurePublic(
        id=disclosure.id,
        resident_id=disclosure.resident_id,
        org_id=disclosure.org_id,
        purpose=disclosure.purpose,
        placement_id=disclosure.placement_id,
        valid_until=disclosure.valid_until,
        recorded_by=disclosure.recorded_by,
        created_at=as_utc(disclosure.created_at),
    )
