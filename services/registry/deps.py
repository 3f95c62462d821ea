"""Dependencies shared by the registry's routes: settings and the caller's stated purpose."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from services.registry.settings import RegistrySettings

# The dependencies here do no I/O, so they are ``async def``: FastAPI runs a plain ``def``
# dependency in the thread pool, a hop per dependency per request (profiled on
# GET /v1/residents/{id}) for what is an attribute lookup.


async def get_registry_settings(request: Request) -> RegistrySettings:
    settings: RegistrySettings = request.app.state.settings
    return settings


SettingsDep = Annotated[RegistrySettings, Depends(get_registry_settings)]


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
