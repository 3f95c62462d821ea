"""Dependencies shared by the registry's routes: settings, the caller's scopes and stated purpose.

Each scope check is a static ``Annotated`` alias named after what its holder does, so a route's
signature says what it needs and mypy can check it (``scoped`` returns a plain dependency).
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlmodel import Session

from services.registry.settings import RegistrySettings
from shared.kit.auth import scoped
from shared.kit.database import AsyncStatementPool, SessionDep, StatementPool
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
DisclosureRecorder = Annotated[Principal, Depends(scoped(RESIDENTS_DISCLOSE))]
AuditReader = Annotated[Principal, Depends(scoped(AUDIT_READ))]


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


async def read_pool(request: Request) -> StatementPool:
    pool: StatementPool = request.app.state.read_pool
    return pool


# The pool of the hot read (residents/reads.py), which owns its one-statement transaction.
ReadPoolDep = Annotated[StatementPool, Depends(read_pool)]


async def async_read_pool(request: Request) -> AsyncStatementPool:
    pool: AsyncStatementPool = request.app.state.async_read_pool
    return pool


AsyncReadPoolDep = Annotated[AsyncStatementPool, Depends(async_read_pool)]


@dataclass(frozen=True)
class Caller:
    """What a route hands its service: the request's session (it owns the transaction), the
    caller as its scope admitted it, and the settings."""

    session: Session
    principal: Principal
    settings: RegistrySettings


@dataclass(frozen=True)
class ResidentsRequest(Caller):
    """What a route that shows residents' personal data hands its service: a ``Caller`` and
    the purpose it stated (kept in the audit trail with every disclosure)."""

    purpose: str | None


# The bundles' annotations are objects, not strings (no ``from __future__ import annotations``
# in this module): FastAPI resolves a string annotation in the module's globals, where the
# factory's ``scope`` is not. ``async def``: each part is built by its own dependency; a bundle
# only gathers them, and a plain ``def`` would cost a hop to the thread pool.
def _caller(scope: str) -> Callable[..., Awaitable[Caller]]:
    async def bundle(
        session: SessionDep,
        principal: Annotated[Principal, Depends(scoped(scope))],
        settings: SettingsDep,
    ) -> Caller:
        return Caller(session, principal, settings)

    return bundle


def _residents_request(scope: str) -> Callable[..., Awaitable[ResidentsRequest]]:
    async def bundle(
        caller: Annotated[Caller, Depends(_caller(scope))], purpose: PurposeDep
    ) -> ResidentsRequest:
        return ResidentsRequest(caller.session, caller.principal, caller.settings, purpose)

    return bundle


# Routes that show personal data (X-Purpose), by the scope they need.
Reading = Annotated[ResidentsRequest, Depends(_residents_request(RESIDENTS_READ))]
Writing = Annotated[ResidentsRequest, Depends(_residents_request(RESIDENTS_WRITE))]
Verifying = Annotated[ResidentsRequest, Depends(_residents_request(RESIDENTS_VERIFY))]
Ranking = Annotated[ResidentsRequest, Depends(_residents_request(RESIDENTS_PRIORITY))]
# Reviewing possible duplicates and held registrations needs the write scope.
Reviewing = Writing

# Routes that show none, by the scope they need.
ReadCall = Annotated[Caller, Depends(_caller(RESIDENTS_READ))]
WriteCall = Annotated[Caller, Depends(_caller(RESIDENTS_WRITE))]
PriorityCall = Annotated[Caller, Depends(_caller(RESIDENTS_PRIORITY))]
ImportCall = Annotated[Caller, Depends(_caller(RESIDENTS_IMPORT))]
FollowUpCall = Annotated[Caller, Depends(_caller(RESIDENTS_FOLLOW_UP))]
GrievanceCall = Annotated[Caller, Depends(_caller(GRIEVANCES))]
EraseCall = Annotated[Caller, Depends(_caller(RESIDENTS_ERASE))]
