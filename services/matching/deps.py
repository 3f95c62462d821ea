"""Dependencies the routers of the service use: its settings, and the caller holding the scope
a route needs (one static alias per scope, so a route's signature says what it needs)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from services.matching.settings import MatchingSettings
from shared.kit.auth import scoped
from shared.kit.settings import settings_dependency
from shared.kit.tokens import Principal
from shared.programme.scopes import MATCHING_READ, MATCHING_RUN, PLACEMENTS_READ, PLACEMENTS_WRITE

SettingsDep = Annotated[MatchingSettings, Depends(settings_dependency(MatchingSettings))]

MatchingReader = Annotated[Principal, Depends(scoped(MATCHING_READ))]
MatchingRunner = Annotated[Principal, Depends(scoped(MATCHING_RUN))]
PlacementsReader = Annotated[Principal, Depends(scoped(PLACEMENTS_READ))]
PlacementsWriter = Annotated[Principal, Depends(scoped(PLACEMENTS_WRITE))]
