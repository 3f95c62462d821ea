"""``POST /v1/residents/{id}/disclosures`` (internal services only)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from services.registry.deps import DisclosureRecorder
from services.registry.disclosures import service
from services.registry.disclosures.models import DisclosureCreate, DisclosurePublic
from shared.kit.database import DatabaseDep
from shared.kit.routes import answer_retry, retry_responses

router = APIRouter(prefix="/v1/residents", tags=["disclosures"])


@router.post(
    "/{resident_id}/disclosures",
    status_code=status.HTTP_201_CREATED,
    responses=retry_responses("Already recorded", 403, 404, 422, 503),
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
    answer_retry(response, created)
    return DisclosurePublic.model_validate(disclosure)
