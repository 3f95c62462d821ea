"""Settings of the matching service, from ``MATCHING_*`` environment variables."""

from __future__ import annotations

from functools import cache

from pydantic_settings import SettingsConfigDict

from shared.settings import ConsumerSettings


class MatchingSettings(ConsumerSettings):
    model_config = SettingsConfigDict(env_prefix="MATCHING_", extra="ignore")

    service_name: str = "matching"
    client_id: str = "matching-service"
    client_secret: str = "dev-matching-secret"
    port: int = 8003


@cache
def get_settings() -> MatchingSettings:
    return MatchingSettings()
