"""The reporting service's dependencies, each a static alias a route's signature names: its
settings, and the scopes that let a caller read reports or set the programme's plan."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from services.reporting.settings import ReportingSettings
from shared.kit.auth import scoped
from shared.kit.settings import settings_dependency
from shared.kit.tokens import Principal
from shared.programme.scopes import PROGRAM_WRITE, REPORTS_READ

SettingsDep = Annotated[ReportingSettings, Depends(settings_dependency(ReportingSettings))]
ReportsReader = Annotated[Principal, Depends(scoped(REPORTS_READ))]
ProgramWriter = Annotated[Principal, Depends(scoped(PROGRAM_WRITE))]
