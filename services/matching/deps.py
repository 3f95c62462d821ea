"""Dependencies the routers of the service use: its settings, and the caller holding the scope
a route needs (one static alias per scope, so a route's signature says what it needs), alone or
bundled with the session and settings for the routes that hand all three to their service."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from sqlmodel import Session

from services.matching.settings import MatchingSettings
from shared.kit.auth import scoped
from shared.kit.database import SessionDep
from shared.kit.settings import settings_dependency
from shared.kit.tokens import Principal
from shared.programme.scopes import MATCHING_READ, MATCHING_RUN, PLACEMENTS_READ, PLACEMENTS_WRITE

SettingsDep = Annotated[MatchingSettings, Depends(settings_dependency(MatchingSettings))]

MatchingReader = Annotated[Principal, Depends(scoped(MATCHING_READ))]
PlacementsReader = Annotated[Principal, Depends(scoped(PLACEMENTS_READ))]


@dataclass(frozen=True)
class MatchingRequest:
    """What a matching route hands its service: the request's session (it owns the
    transaction), the caller as its scope admitted it, and the settings (the policy)."""

    session: Session
    principal: Principal
    settings: MatchingSettings


def _bundle(
    admitted: Callable[..., Awaitable[Principal]],
) -> Callable[..., Awaitable[MatchingRequest]]:
    """The dependency bundling a request's session and settings with the caller ``admitted``
    lets in (one of the scope aliases' dependencies). ``async def``: the three are built by
    their own dependencies; this only bundles them. The caller's dependency is a default, not
    an ``Annotated`` alias, because it is this closure's and annotations are read as globals."""

    async def bundle(
        session: SessionDep, settings: SettingsDep, principal: Principal = Depends(admitted)
    ) -> MatchingRequest:
        return MatchingRequest(session, principal, settings)

    return bundle


# Reading scores, runs and their proposals; starting a run; placing a resident directly.
Consulting = Annotated[MatchingRequest, Depends(_bundle(scoped(MATCHING_READ)))]
Running = Annotated[MatchingRequest, Depends(_bundle(scoped(MATCHING_RUN)))]
Placing = Annotated[MatchingRequest, Depends(_bundle(scoped(PLACEMENTS_WRITE)))]
