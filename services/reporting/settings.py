"""Settings of the reporting service, from ``REPORTING_*`` environment variables."""

from __future__ import annotations

from functools import cache

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.kit.settings import ConsumerSettings

DEV_PSEUDONYM_KEY = "dev-reporting-pseudonym-key-not-for-production"
MIN_PSEUDONYM_KEY_LENGTH = 32
MIN_SMALL_CELL_THRESHOLD = 2


class ReportingSettings(ConsumerSettings):
    model_config = SettingsConfigDict(env_prefix="REPORTING_", extra="ignore")

    service_name: str = "reporting"
    port: int = 8004
    # The regency the programme runs in: the villages report lists its villages.
    regency_code: str = "63.02"
    # Cells counting fewer residents than this are suppressed for regional agencies, so a
    # village of three placed residents does not identify them (with complementary cells, so
    # no hidden one is a total minus what is shown). 0 or 1 turns it off: refused in production.
    small_cell_threshold: int = Field(default=5, ge=0)
    # HMAC-SHA256 key of the pseudonymous resident ids in the event feed (admin, agencies, local
    # governments; regional agencies read daily counts). Rotating it gives every resident a new
    # pseudonym: readers cannot link them across the rotation.
    pseudonym_key: str = DEV_PSEUDONYM_KEY
    # PostgreSQL work_mem of a report's transaction, so its GROUP BYs hash in memory.
    report_work_mem: str = Field(default="64MB", pattern=r"^[1-9][0-9]{0,5}(kB|MB|GB)$")
    # `as_of=2025-10-31` means "by the end of that day" in the regency's time zone (WITA).
    utc_offset_hours: int = Field(default=8, ge=-12, le=14)

    def production_problems(self) -> list[str]:
        problems = super().production_problems()
        if self.small_cell_threshold < MIN_SMALL_CELL_THRESHOLD:
            # Below 2 nothing is suppressed: regional agencies would read single residents.
            problems.append(
                f"REPORTING_SMALL_CELL_THRESHOLD must be at least {MIN_SMALL_CELL_THRESHOLD}"
            )
        if self.pseudonym_key == DEV_PSEUDONYM_KEY or self.pseudonym_key.startswith("dev-"):
            problems.append("REPORTING_PSEUDONYM_KEY is unset or a development default")
        elif len(self.pseudonym_key) < MIN_PSEUDONYM_KEY_LENGTH:
            problems.append(
                f"REPORTING_PSEUDONYM_KEY must be at least {MIN_PSEUDONYM_KEY_LENGTH} characters"
            )
        return problems


@cache
def get_settings() -> ReportingSettings:
    return ReportingSettings()
