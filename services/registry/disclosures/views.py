"""``POST /v1/residents/{id}/disclosures`` (internal services only)."""

from __future__ import annotations

import anyio
from fastapi import APIRouter, Request, Response, status

from services.registry.disclosures import service
from services.registry.disclosures.models import Disclosure, DisclosureCreate, DisclosurePublic
from services.registry.disclosures.proof import fetch_proof
from shared.kit.auth import require_scopes
from shared.kit.database import DatabaseDep
from shared.kit.problems import problem_responses
from shared.kit.time import as_utc
from shared.programme.scopes import RESIDENTS_DISCLOSE

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
    principal: require_scopes(RESIDENTS_DISCLOSE),  # type: ignore[valid-type]
    request: Request,
    response: Response,
) -> DisclosurePublic:
    # Matching is asked before any session opens: no transaction (on SQLite, no write lock)
    # is held while it answers.
    proof = await fetch_proof(
        request.app.state.matching, data.placement_id, request.headers["authorization"]
    )

    def unit_of_work() -> tuple[Disclosure, bool]:
        with db.session() as session:
            return service.disclose(session, principal, resident_id, data, proof)

    disclosure, created = await anyio.to_thread.run_sync(unit_of_work)
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
