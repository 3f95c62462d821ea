"""Settings of the reporting service, from ``REPORTING_*`` environment variables."""

from __future__ import annotations

from functools import cache

from pydantic_settings import SettingsConfigDict

from shared.settings import ConsumerSettings


class ReportingSettings(ConsumerSettings):
    model_config = SettingsConfigDict(env_prefix="REPORTING_", extra="ignore")

    service_name: str = "reporting"
    client_id: str = "reporting-service"
    client_secret: str = "dev-reporting-secret"
    port: int = 8004


@cache
def get_settings() -> ReportingSettings:
    return ReportingSettings()
