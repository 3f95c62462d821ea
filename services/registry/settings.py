"""Settings of the registry service, from ``REGISTRY_*`` environment variables."""

from __future__ import annotations

from functools import cache

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.kit.settings import ConsumerSettings


class RegistrySettings(ConsumerSettings):
    model_config = SettingsConfigDict(env_prefix="REGISTRY_", extra="ignore")

    service_name: str = "registry"
    port: int = 8001
    # Its own credentials at the gateway, to read matching's placement feed (the visit plan).
    client_id: str = "registry-service"
    client_secret: str = "dev-registry-secret"
    consume_placements: bool = True
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
    # Benchmark only: GET /bench/residents/{id} without a token, to measure authentication.
    bench_unauthenticated_reads: bool = False

    def production_problems(self) -> list[str]:
        problems = super().production_problems()
        if self.bench_unauthenticated_reads:
            problems.append(
                "REGISTRY_BENCH_UNAUTHENTICATED_READS is on; it serves personal data without "
                "a token and exists for benchmarks only"
            )
        return problems


@cache
def get_settings() -> RegistrySettings:
    return RegistrySettings()
