"""Settings of the registry service, from ``REGISTRY_*`` environment variables."""

from __future__ import annotations

from functools import cache

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class RegistrySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="REGISTRY_", extra="ignore")

    service_name: str = "registry"
    port: int = 8001


@cache
def get_settings() -> RegistrySettings:
    return RegistrySettings()
