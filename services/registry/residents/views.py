"""Routes of ``/v1/residents``: thin, the rules live in ``service``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Response, status
from sqlalchemy.orm import Session

from services.registry.deps import (
    Eraser,
    PriorityEditor,
    PurposeDep,
    ResidentsReader,
    ResidentsVerifier,
    ResidentsWriter,
    SettingsDep,
)
from services.registry.residents import service
from services.registry.residents.models import (
    HistoryEntry,
    PriorityIn,
    ResidentCreate,
    ResidentFilters,
    ResidentPublic,
    ResidentUpdate,
    ResidentView,
)
from services.registry.settings import RegistrySettings
from shared.kit.database import SessionDep
from shared.kit.pagination import Page, PageParamsDep
from shared.kit.problems import problem_responses
from shared.kit.tokens import Principal

router = APIRouter(prefix="/v1/residents", tags=["residents"])


def _public(
    session: Session,
    principal: Principal,
    resident: service.Resident,
    settings: RegistrySettings,
    response: Response,
    *,
    action: str,
    purpose: str | None,
) -> ResidentPublic:
    """The answer to a change: only the registry's own organisations change residents."""
    response.headers["ETag"] = service.etag(resident)
    [public] = service.present(
        session, principal, [resident], settings, action=action, purpose=purpose
    )
    return public


def read_resident(
    session: Session,
    principal: Principal,
    resident_id: str,
    settings: RegistrySettings,
    response: Response,
    purpose: str | None,
) -> ResidentView:
    """GET /v1/residents/{id}; also the benchmark's unauthenticated twin, so both do the
    same work."""
    resident, view = service.read(session, principal, resident_id, settings, purpose=purpose)
    response.headers["ETag"] = service.etag(resident)
    return view


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(403, 409, 422),
    summary="Register a resident",
)
def create_resident(
    data: ResidentCreate,
    session: SessionDep,
    principal: ResidentsWriter,
    settings: SettingsDep,
    response: Response,
    purpose: PurposeDep,
) -> ResidentPublic:
    resident = service.create(session, principal, data, settings)
    response.headers["Location"] = f"/v1/residents/{resident.id}"
    return _public(
        session, principal, resident, settings, response, action="resident.create", purpose=purpose
    )


@router.get("", responses=problem_responses(403, 422), summary="List residents")
def list_residents(
    session: SessionDep,
    principal: ResidentsReader,
    settings: SettingsDep,
    page: PageParamsDep,
    purpose: PurposeDep,
    filters: Annotated[ResidentFilters, Depends()],
) -> Page[ResidentPublic]:
    rows, cursor = service.list_residents(session, principal, page, settings, filters)
    items = service.present(
        session, principal, rows, settings, action="resident.list", purpose=purpose
    )
    return Page(items=items, next_cursor=cursor)


@router.get("/{resident_id}", responses=problem_responses(404), summary="A resident")
def get_resident(
    resident_id: str,
    session: SessionDep,
    principal: ResidentsReader,
    settings: SettingsDep,
    response: Response,
    purpose: PurposeDep,
) -> ResidentView:
    return read_resident(session, principal, resident_id, settings, response, purpose)


@router.patch(
    "/{resident_id}",
    responses=problem_responses(404, 409, 412, 422, 428),
    summary="Change a resident (If-Match required)",
)
def update_resident(
    resident_id: str,
    data: ResidentUpdate,
    session: SessionDep,
    principal: ResidentsWriter,
    settings: SettingsDep,
    response: Response,
    purpose: PurposeDep,
    if_match: Annotated[str | None, Header(max_length=200)] = None,
) -> ResidentPublic:
    resident = service.update(session, principal, resident_id, data, if_match, settings)
    return _public(
        session, principal, resident, settings, response, action="resident.update", purpose=purpose
    )


@router.post("/{resident_id}/verify", responses=problem_responses(404, 409), summary="Verify")
def verify_resident(
    resident_id: str,
    session: SessionDep,
    principal: ResidentsVerifier,
    settings: SettingsDep,
    response: Response,
    purpose: PurposeDep,
) -> ResidentPublic:
    resident = service.verify(session, principal, resident_id, settings)
    return _public(
        session, principal, resident, settings, response, action="resident.verify", purpose=purpose
    )


@router.put(
    "/{resident_id}/priority",
    responses=problem_responses(404, 409, 422),
    summary="Set the resident's rank within the village",
)
def set_priority(
    resident_id: str,
    data: PriorityIn,
    session: SessionDep,
    principal: PriorityEditor,
    settings: SettingsDep,
    response: Response,
    purpose: PurposeDep,
) -> ResidentPublic:
    resident = service.set_priority(session, principal, resident_id, data.rank, settings)
    return _public(
        session,
        principal,
        resident,
        settings,
        response,
        action="resident.priority",
        purpose=purpose,
    )


@router.get(
    "/{resident_id}/history", responses=problem_responses(404), summary="Who changed what, when"
)
def resident_history(
    resident_id: str,
    session: SessionDep,
    principal: ResidentsReader,
    page: PageParamsDep,
) -> Page[HistoryEntry]:
    items, cursor = service.history(session, principal, resident_id, page)
    return Page(items=items, next_cursor=cursor)


@router.post(
    "/{resident_id}/erase", responses=problem_responses(404), summary="Right to erasure (admin)"
)
def erase_resident(
    resident_id: str,
    session: SessionDep,
    principal: Eraser,
    settings: SettingsDep,
    response: Response,
) -> ResidentPublic:
    resident = service.erase(session, principal, resident_id, settings)
    response.headers["ETag"] = service.etag(resident)
    return service.to_public(resident, settings, service.now_utc().date())
