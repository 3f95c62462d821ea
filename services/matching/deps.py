"""Dependencies every router of the service uses."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from services.matching.settings import MatchingSettings


def get_matching_settings(request: Request) -> MatchingSettings:
    settings: MatchingSettings = request.app.state.settings
    return settings


SettingsDep = Annotated[MatchingSettings, Depends(get_matching_settings)]
