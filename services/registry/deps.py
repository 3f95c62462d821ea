"""Dependencies shared by the registry's routes: settings, the caller's scopes and stated purpose.

Each scope check is a static ``Annotated`` alias named after what its holder does, so a route's
signature says what it needs and mypy can check it (``scoped`` returns a plain dependency).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header
from sqlmodel import Session

from services.registry.settings import RegistrySettings
from shared.kit.auth import scoped
from shared.kit.database import SessionDep
from shared.kit.settings import settings_dependency
from shared.kit.tokens import Principal
from shared.programme.scopes import (
    AUDIT_READ,
    GRIEVANCES,
    RESIDENTS_DISCLOSE,
    RESIDENTS_ERASE,
    RESIDENTS_FOLLOW_UP,
    RESIDENTS_IMPORT,
    RESIDENTS_PRIORITY,
    RESIDENTS_READ,
    RESIDENTS_VERIFY,
    RESIDENTS_WRITE,
)

SettingsDep = Annotated[RegistrySettings, Depends(settings_dependency(RegistrySettings))]

ResidentsReader = Annotated[Principal, Depends(scoped(RESIDENTS_READ))]
ResidentsWriter = Annotated[Principal, Depends(scoped(RESIDENTS_WRITE))]
ResidentsVerifier = Annotated[Principal, Depends(scoped(RESIDENTS_VERIFY))]
PriorityEditor = Annotated[Principal, Depends(scoped(RESIDENTS_PRIORITY))]
Importer = Annotated[Principal, Depends(scoped(RESIDENTS_IMPORT))]
FollowUpRecorder = Annotated[Principal, Depends(scoped(RESIDENTS_FOLLOW_UP))]
Eraser = Annotated[Principal, Depends(scoped(RESIDENTS_ERASE))]
DisclosureRecorder = Annotated[Principal, Depends(scoped(RESIDENTS_DISCLOSE))]
AuditReader = Annotated[Principal, Depends(scoped(AUDIT_READ))]
GrievanceHandler = Annotated[Principal, Depends(scoped(GRIEVANCES))]


# ``async def``: it does no I/O, and FastAPI runs a plain ``def`` dependency in the thread pool,
# a hop per request (profiled on GET /v1/residents/{id}) for what is a header read.
async def stated_purpose(
    x_purpose: Annotated[
        str | None,
        Header(
            max_length=200,
            description="Why the caller needs the personal data; kept in the audit trail",
        ),
    ] = None,
) -> str | None:
    return x_purpose.strip() or None if x_purpose else None


PurposeDep = Annotated[str | None, Depends(stated_purpose)]


@dataclass(frozen=True)
class ResidentsRequest:
    """What a route that shows residents' personal data hands its service: the request's
    session (it owns the transaction), the caller as its scope admitted it, the purpose it
    stated (kept in the audit trail with every disclosure) and the settings."""

    session: Session
    principal: Principal
    purpose: str | None
    settings: RegistrySettings


# ``async def``: the four are built by their own dependencies; this only bundles them.
async def _reviewing(
    session: SessionDep, principal: ResidentsWriter, purpose: PurposeDep, settings: SettingsDep
) -> ResidentsRequest:
    return ResidentsRequest(session, principal, purpose, settings)


async def _reading(
    session: SessionDep, principal: ResidentsReader, purpose: PurposeDep, settings: SettingsDep
) -> ResidentsRequest:
    return ResidentsRequest(session, principal, purpose, settings)


# Reviewing possible duplicates and held registrations needs the write scope; reading, the
# read scope.
Reviewing = Annotated[ResidentsRequest, Depends(_reviewing)]
Reading = Annotated[ResidentsRequest, Depends(_reading)]
