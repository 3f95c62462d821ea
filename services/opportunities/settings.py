"""Settings of the opportunities service, from ``OPPORTUNITIES_*`` environment variables."""

from __future__ import annotations

from functools import cache

from pydantic_settings import SettingsConfigDict

from shared.kit.settings import ServiceSettings


class OpportunitiesSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="OPPORTUNITIES_", extra="ignore")

    service_name: str = "opportunities"
    port: int = 8002
    # The programme's regency: every location and eligible area must lie inside it, and
    # JobPosting localities are matched against its villages.
    regency_code: str = "63.02"
    # Dates without a time (a JobPosting's validThrough "2026-08-31") end at midnight here.
    timezone: str = "Asia/Makassar"
    # How often the background task closes opportunities whose valid_through has passed.
    expiry_interval_seconds: float = 60.0
    # How long a stored Idempotency-Key response is replayed (Stripe keeps them 24 hours).
    idempotency_retention_hours: int = 24
    # A batch of 500 vacancies with full descriptions is larger than the default body limit.
    batch_max_bytes: int = 8 * 1_048_576


@cache
def get_settings() -> OpportunitiesSettings:
    return OpportunitiesSettings()
