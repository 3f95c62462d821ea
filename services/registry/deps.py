"""Dependencies shared by the registry's routes: settings and the caller's stated purpose."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from services.registry.settings import RegistrySettings


def get_registry_settings(request: Request) -> RegistrySettings:
    settings: RegistrySettings = request.app.state.settings
    return settings


SettingsDep = Annotated[RegistrySettings, Depends(get_registry_settings)]


def stated_purpose(
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
