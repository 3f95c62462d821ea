"""Routes of ``/v1/residents``: thin, the rules live in ``service``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Response, status

from services.registry.deps import (
    AsyncReadPoolDep,
    EraseCall,
    PurposeDep,
    Ranking,
    ReadCall,
    Reading,
    ResidentsReader,
    ResidentsRequest,
    SettingsDep,
    Verifying,
    Writing,
)
from services.registry.residents import reads, service
from services.registry.residents.models import (
    HistoryEntry,
    PriorityIn,
    ResidentCreate,
    ResidentFilters,
    ResidentPublic,
    ResidentUpdate,
    ResidentView,
)
from shared.kit.pagination import Page, PageParamsDep
from shared.kit.problems import problem_responses
from shared.kit.routes import page_of

router = APIRouter(prefix="/v1/residents", tags=["residents"])


def _public(
    desk: ResidentsRequest, resident: service.Resident, response: Response, *, action: str
) -> ResidentPublic:
    """The answer to a change: only the registry's own organisations change residents."""
    response.headers["ETag"] = service.etag(resident)
    [public] = service.present(
        desk.session, desk.principal, [resident], desk.settings, action=action, purpose=desk.purpose
    )
    return public


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(403, 409, 422),
    summary="Register a resident",
)
def create_resident(data: ResidentCreate, desk: Writing, response: Response) -> ResidentPublic:
    resident = service.create(desk.session, desk.principal, data, desk.settings)
    response.headers["Location"] = f"/v1/residents/{resident.id}"
    return _public(desk, resident, response, action="resident.create")


@router.get("", responses=problem_responses(403, 422), summary="List residents")
def list_residents(
    desk: Reading, page: PageParamsDep, filters: Annotated[ResidentFilters, Depends()]
) -> Page[ResidentPublic]:
    rows, cursor = service.list_residents(
        desk.session, desk.principal, page, desk.settings, filters
    )
    items = service.present(
        desk.session,
        desk.principal,
        rows,
        desk.settings,
        action="resident.list",
        purpose=desk.purpose,
    )
    return Page(items=items, next_cursor=cursor)


@router.get("/{resident_id}", responses=problem_responses(404), summary="A resident")
async def get_resident(
    resident_id: str,
    principal: ResidentsReader,
    purpose: PurposeDep,
    pool: AsyncReadPoolDep,
    settings: SettingsDep,
    response: Response,
) -> ResidentView:
    # No request session and no thread-pool hop: the read and its audit record are one
    # statement on the asyncio pool of this route (residents/reads.py).
    view, etag = await reads.read_async(pool, principal, resident_id, settings, purpose=purpose)
    response.headers["ETag"] = etag
    return view


@router.patch(
    "/{resident_id}",
    responses=problem_responses(404, 409, 412, 422, 428),
    summary="Change a resident (If-Match required)",
)
def update_resident(
    resident_id: str,
    data: ResidentUpdate,
    desk: Writing,
    response: Response,
    if_match: Annotated[str | None, Header(max_length=200)] = None,
) -> ResidentPublic:
    resident = service.update(
        desk.session, desk.principal, resident_id, data, if_match, desk.settings
    )
    return _public(desk, resident, response, action="resident.update")


@router.post("/{resident_id}/verify", responses=problem_responses(404, 409), summary="Verify")
def verify_resident(resident_id: str, desk: Verifying, response: Response) -> ResidentPublic:
    resident = service.verify(desk.session, desk.principal, resident_id, desk.settings)
    return _public(desk, resident, response, action="resident.verify")


@router.put(
    "/{resident_id}/priority",
    responses=problem_responses(404, 409, 422),
    summary="Set the resident's rank within the village",
)
def set_priority(
    resident_id: str, data: PriorityIn, desk: Ranking, response: Response
) -> ResidentPublic:
    resident = service.set_priority(
        desk.session, desk.principal, resident_id, data.rank, desk.settings
    )
    return _public(desk, resident, response, action="resident.priority")


@router.get(
    "/{resident_id}/history", responses=problem_responses(404), summary="Who changed what, when"
)
def resident_history(resident_id: str, call: ReadCall, page: PageParamsDep) -> Page[HistoryEntry]:
    return page_of(service.history(call.session, call.principal, resident_id, page))


@router.post(
    "/{resident_id}/erase", responses=problem_responses(404), summary="Right to erasure (admin)"
)
def erase_resident(resident_id: str, call: EraseCall, response: Response) -> ResidentPublic:
    resident = service.erase(call.session, call.principal, resident_id, call.settings)
    response.headers["ETag"] = service.etag(resident)
    return service.to_public(resident, call.settings, service.now_utc().date())
