"""``/v1/placements``: list, direct placement, one placement with its history, transitions."""

from __future__ import annotations

import uuid
from typing import Annotated

import anyio
from fastapi import APIRouter, Query, Response, status

from services.matching.access import require_org_types
from services.matching.deps import PlacementsReader, Placing, SettingsDep
from services.matching.placements import service
from services.matching.placements.models import (
    Action,
    DisclosureProof,
    PlacementCreate,
    PlacementDetail,
    PlacementPublic,
    PlacementStatus,
    ResidentDecision,
)
from shared.kit.auth import CurrentPrincipal
from shared.kit.database import DatabaseDep, SessionDep
from shared.kit.pagination import Page, PageParamsDep
from shared.kit.problems import Forbidden, problem_responses
from shared.kit.routes import answer_retry
from shared.programme.organisations import PROGRAMME_TYPES

router = APIRouter(prefix="/v1/placements", tags=["placements"])


@router.get("", response_model=Page[PlacementPublic], responses=problem_responses(403, 422))
def list_placements(
    session: SessionDep,
    page: PageParamsDep,
    principal: PlacementsReader,
    resident_id: uuid.UUID | None = None,
    opportunity_id: uuid.UUID | None = None,
    provider_org_id: Annotated[str | None, Query(max_length=64)] = None,
    placement_status: Annotated[PlacementStatus | None, Query(alias="status")] = None,
    district_code: Annotated[str | None, Query(max_length=20)] = None,
) -> Page[PlacementPublic]:
    filters = service.PlacementFilters(
        resident_id, opportunity_id, provider_org_id, placement_status, district_code
    )
    rows, next_cursor = service.list_placements(session, principal, filters, page)
    return Page(items=[service.to_public(row) for row in rows], next_cursor=next_cursor)


@router.post(
    "",
    response_model=PlacementPublic,
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(403, 422),
    summary="Place a resident directly (agencies); a retry returns the same placement",
)
def create_placement(
    body: PlacementCreate, response: Response, placing: Placing
) -> PlacementPublic:
    require_org_types(placing.principal, PROGRAMME_TYPES, "place residents")
    placement, created = service.create_direct(
        placing.session, placing.principal, body, placing.settings
    )
    answer_retry(response, created)
    response.headers["Location"] = f"/v1/placements/{placement.id}"
    return service.to_public(placement)


@router.get("/{placement_id}", response_model=PlacementDetail, responses=problem_responses(404))
def read_placement(
    placement_id: uuid.UUID,
    session: SessionDep,
    principal: PlacementsReader,
) -> PlacementDetail:
    return service.detail(session, service.get_visible(session, principal, placement_id))


@router.get(
    "/{placement_id}/disclosure-proof",
    response_model=DisclosureProof,
    responses=problem_responses(403, 404),
    summary="The placement a disclosure names, for the registry to check (disclosing service)",
)
def read_disclosure_proof(
    placement_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal
) -> DisclosureProof:
    placement = service.disclosure_proof(session, principal, placement_id)
    return DisclosureProof(
        placement_id=placement.id,
        org_id=placement.provider_org_id,
        resident_id=placement.resident_id,
        status=placement.status,
    )


@router.post(
    "/{placement_id}/resident-decision",
    response_model=PlacementPublic,
    responses=problem_responses(403, 404, 409),
    summary="The resident's own answer to an offer, relayed by the registry from their SMS",
)
def resident_decision(
    placement_id: uuid.UUID,
    body: ResidentDecision,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> PlacementPublic:
    return service.to_public(
        service.resident_decision(session, principal, placement_id, body, settings)
    )


@router.post(
    "/{placement_id}/{action}",
    response_model=PlacementPublic,
    responses=problem_responses(403, 404, 409),
    summary="Move a placement on: offer, accept, decline, start, complete or drop",
)
async def act(
    placement_id: uuid.UUID,
    action: Action,
    db: DatabaseDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> PlacementPublic:
    # Each action's scope is the one its transition names.
    scope = service.TRANSITIONS[action].scope
    if scope not in principal.scopes:
        raise Forbidden(f"this action needs the scope {scope}")

    # The whole unit of work, commit included, runs in one worker thread: under a burst of
    # accepts a request never holds a connection while it waits for a thread to commit.
    def unit_of_work() -> PlacementPublic:
        with db.session() as session:
            placement = service.transition(session, principal, placement_id, action, settings)
            return service.to_public(placement)

    return await anyio.to_thread.run_sync(unit_of_work)
