"""Settings of the registry service, from ``REGISTRY_*`` environment variables."""

from __future__ import annotations

from functools import cache
from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.kit.settings import ConsumerSettings

# Days a complaint may stay open, by category (issue 20): payments and conduct first.
DEFAULT_GRIEVANCE_SLA_DAYS: dict[str, int] = {
    "targeting": 14,
    "placement": 7,
    "payment": 5,
    "data": 14,
    "conduct": 5,
    "other": 14,
}


class RegistrySettings(ConsumerSettings):
    """A consumer too: with its own client (``registry-service``) it reads matching's placement
    feed, for the visit plan and cohort enrolment (issue 15) and to tell residents of their
    offers (issue 20), and it relays residents' own answers to matching."""

    model_config = SettingsConfigDict(env_prefix="REGISTRY_", extra="ignore")

    service_name: str = "registry"
    client_id: str = "registry-service"
    client_secret: str = "dev-registry-secret"
    # Off in tests that drive the feed and the sender by hand.
    consume_feeds: bool = True
    port: int = 8001
    # The visit plan of a started placement: visits due this many days after the start, each
    # assigned to the organisation that placed the resident; for paid kinds, the provider is
    # assigned a wage confirmation at each of its offsets.
    follow_up_plan_days: list[int] = Field(default=[30, 90, 180, 365], max_length=20)
    wage_confirmation_days: list[int] = Field(default=[30, 180], max_length=20)
    wage_kinds: list[str] = Field(default=["job", "internship"])
    # A visit this many days before an entry falls due still answers it.
    follow_up_early_days: int = Field(default=14, ge=0)
    # The programme targets the poorest deciles of the national socio-economic register.
    target_max_decile: int = Field(default=4, ge=1, le=10)
    # Productive age, the BPS definition.
    productive_age_min: int = 15
    productive_age_max: int = 64
    # Rupiah per capita per month. 600,000 is a placeholder: align it with BPS' poverty line
    # for Kabupaten Kotabaru of the current year.
    poverty_line_idr: int = Field(default=600_000, ge=0)
    # Independence: this many follow-ups above the poverty line, spanning at least these days.
    independence_follow_ups: int = Field(default=2, ge=1)
    independence_min_days: int = Field(default=90, ge=0)
    # Graduation (graduation/rules.py): this many of those visits not self-reported (payslip,
    # employer confirmation, business record); the version is written into each graduation.
    graduation_verified_visits: int = Field(default=1, ge=0)
    graduation_rule_version: str = Field(default="2025.1", max_length=40)
    # The cohort a resident is enrolled in when its first placement is accepted (matching's
    # placement feed); None: enrolment is by request only (POST /v1/cohorts/{code}/enrolments).
    auto_enrol_cohort: str | None = Field(default=None, max_length=40)
    # Imports: their own body limit, row limit and a bound on an XLSX's uncompressed size.
    import_max_bytes: int = 50 * 1024 * 1024
    import_max_rows: int = 100_000
    import_max_xlsx_uncompressed_bytes: int = 400 * 1024 * 1024
    # Unique strings an XLSX may hold. None: as many as the row limit's cells (a sheet of
    # import_max_rows rows of our columns cannot need more), so the cap follows the row limit.
    import_max_shared_strings: int | None = Field(default=None, ge=0)
    # The reader's child process: its address space (RLIMIT_AS, counting the interpreter,
    # about 150 MB, and the file) and its time; a file that needs more fails its job.
    import_reader_memory_bytes: int = Field(default=1024 * 1024 * 1024, ge=64 * 1024 * 1024)
    import_reader_seconds: float = Field(default=120.0, gt=0)
    import_chunk_size: int = Field(default=10_000, ge=1)
    # Validation a column at a time and, on PostgreSQL, new residents written set-based
    # through a staging table. Off: every row validated and written one by one (the
    # reference the tests compare the fast path with).
    import_fast_path: bool = True
    import_poll_seconds: float = 2.0
    # A job whose worker has not reported for this long is taken over (the worker crashed).
    import_lease_seconds: float = 120.0
    # A job that stops on an unexpected error this many times is marked failed, not retried.
    import_max_attempts: int = Field(default=3, ge=1)
    # Matching (matching_url, from ConsumerSettings) is asked whether the placement a
    # disclosure names is real before it is recorded, and its placement feed is read.
    # Notifications to residents (services/registry/README.md): ``log`` writes each message to
    # the log without its number; ``webhook`` posts it, signed, to an SMS/WhatsApp gateway.
    notify_sender: Literal["log", "webhook"] = "log"
    notify_language: Literal["id", "en"] = "id"
    notify_webhook_url: str = ""
    notify_webhook_secret: str = ""
    notify_webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    notify_max_attempts: int = Field(default=6, ge=1)
    notify_backoff_seconds: float = Field(default=30.0, ge=0)
    notify_backoff_max_seconds: float = Field(default=3600.0, ge=0)
    notify_poll_seconds: float = Field(default=5.0, gt=0)
    notify_batch_size: int = Field(default=50, ge=1)
    # The secret the SMS gateway signs inbound messages and receipts with; unset refuses all.
    notify_inbound_secret: str = ""
    grievance_sla_days: dict[str, int] = Field(
        default_factory=lambda: dict(DEFAULT_GRIEVANCE_SLA_DAYS)
    )
    # Connections kept open for GET /v1/residents/{id} (residents/reads.py), as many again in a
    # burst: at least the requests one worker serves at once, so a steady load opens none.
    read_pool_size: int = Field(default=32, ge=1, le=500)
    # Benchmark only: GET /bench/residents/{id} without a token, to measure authentication, and
    # GET /bench/previous/residents/{id}, the read as it was before residents/reads.py.
    bench_unauthenticated_reads: bool = False

    def production_problems(self) -> list[str]:
        problems = super().production_problems()
        if self.bench_unauthenticated_reads:
            problems.append(
                "REGISTRY_BENCH_UNAUTHENTICATED_READS is on; it serves personal data without "
                "a token and exists for benchmarks only"
            )
        if self.notify_sender == "webhook" and not (
            self.notify_webhook_url and self.notify_webhook_secret
        ):
            problems.append(
                "REGISTRY_NOTIFY_SENDER is webhook but REGISTRY_NOTIFY_WEBHOOK_URL or "
                "REGISTRY_NOTIFY_WEBHOOK_SECRET is unset"
            )
        return problems


@cache
def get_settings() -> RegistrySettings:
    return RegistrySettings()
