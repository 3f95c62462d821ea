"""Settings of the opportunities service, from ``OPPORTUNITIES_*`` environment variables."""

from __future__ import annotations

from functools import cache

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class OpportunitiesSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="OPPORTUNITIES_", extra="ignore")

    service_name: str = "opportunities"
    port: int = 8002


@cache
def get_settings() -> OpportunitiesSettings:
    return OpportunitiesSettings()
