"""Settings of the gateway, from ``GATEWAY_*`` environment variables, plus the programme-wide
admin credentials ``SINERGI_ADMIN_CLIENT_ID`` / ``SINERGI_ADMIN_CLIENT_SECRET``."""

from __future__ import annotations

import ipaddress
import json
from functools import cache
from pathlib import Path
from typing import Annotated

from limits import parse
from pydantic import Field, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from shared.kit.settings import (
    DEFAULT_DATA_DIR,
    DEV_SERVICE_SECRET_PREFIX,
    ServiceSettings,
    ServiceUrls,
)

DEV_ADMIN_CLIENT_ID = "sinergi-admin"
DEV_ADMIN_CLIENT_SECRET = "dev-admin-secret"
DEV_SERVICE_CLIENTS = {
    "matching-service": "dev-matching-secret",
    "reporting-service": "dev-reporting-secret",
    "registry-service": "dev-registry-secret",
}
# A deactivated organisation must be locked out within 30 s (issue 2), so no longer TTL.
MAX_ORG_STATUS_TTL_SECONDS = 30.0


class GatewaySettings(ServiceUrls, ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore", populate_by_name=True)

    service_name: str = "gateway"
    port: int = 8000
    # The gateway verifies with its own keys; it never fetches its own JWKS over HTTP.
    jwks_url: str = ""
    data_dir: Path = DEFAULT_DATA_DIR

    token_lifetime_seconds: int = Field(default=900, ge=60, le=3600)
    signing_key_file: str = ""
    # Comma-separated public PEM files of earlier signing keys, kept in the JWKS after rotation.
    verification_key_files: str = ""

    reporting_url: str = "http://127.0.0.1:8004"
    upstream_timeout_seconds: float = Field(default=10.0, gt=0)
    upstream_max_connections: int = Field(default=200, ge=1)

    redis_url: str = ""
    redis_key_prefix: str = "sinergi-gateway"
    rate_limit: str = "1200/minute"
    # The brute-force brake on POST /v1/auth/token (access/bruteforce.py): failed
    # authentications allowed per window for one client id or username from all addresses,
    # from one address, and per address for names that exist nowhere.
    login_failure_limit: str = "50/15 minutes"
    login_failure_limit_per_address_identity: str = "10/15 minutes"
    login_failure_limit_per_address: str = "100/15 minutes"
    # Proxies (addresses or networks) whose X-Forwarded-For gives the caller's address; from
    # any other peer the header is ignored. Behind the ingress, its pods' network.
    trusted_proxies: Annotated[list[str], NoDecode] = []
    # A JSON list or comma-separated origins.
    cors_origins: Annotated[list[str], NoDecode] = []
    org_status_ttl_seconds: float = Field(default=MAX_ORG_STATUS_TTL_SECONDS, ge=0)
    openapi_cache_seconds: float = Field(default=30.0, ge=0)

    # argon2id cost of new hashes; the defaults are RFC 9106's second recommended option.
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_kib: int = Field(default=65_536, ge=8)
    argon2_parallelism: int = Field(default=4, ge=1)

    admin_client_id: str = Field(default="", validation_alias="SINERGI_ADMIN_CLIENT_ID")
    admin_client_secret: str = Field(default="", validation_alias="SINERGI_ADMIN_CLIENT_SECRET")
    # JSON object client_id -> secret; one organisation of type ``service`` per entry.
    service_clients: dict[str, str] | None = None

    @field_validator(
        "rate_limit",
        "login_failure_limit",
        "login_failure_limit_per_address",
        "login_failure_limit_per_address_identity",
    )
    @classmethod
    def _limit_notation(cls, value: str) -> str:
        parse(value)  # raises ValueError naming the bad notation at start, not on a request
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        # Raises ValueError naming a bad entry at start: a typo must not trust nothing silently.
        return [str(ipaddress.ip_network(entry.strip(), strict=False)) for entry in value]

    @field_validator("cors_origins", "trusted_proxies", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [origin.strip() for origin in text.split(",") if origin.strip()]
        return value

    def model_post_init(self, __context: object) -> None:
        if self.org_status_ttl_seconds > MAX_ORG_STATUS_TTL_SECONDS:
            raise ValueError(
                "GATEWAY_ORG_STATUS_TTL_SECONDS may be at most 30: a deactivated organisation "
                "must be locked out within 30 seconds"
            )

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    def admin_credentials(self) -> tuple[str, str] | None:
        """The admin client to bootstrap: the configured one, else the development default."""
        if self.admin_client_id and self.admin_client_secret:
            return self.admin_client_id, self.admin_client_secret
        if self.is_production:
            return None
        return (
            self.admin_client_id or DEV_ADMIN_CLIENT_ID,
            self.admin_client_secret or DEV_ADMIN_CLIENT_SECRET,
        )

    def effective_service_clients(self) -> dict[str, str]:
        if self.service_clients is not None:
            return dict(self.service_clients)
        return {} if self.is_production else dict(DEV_SERVICE_CLIENTS)

    def service_urls(self) -> dict[str, str]:
        return {
            "registry": self.registry_url,
            "opportunities": self.opportunities_url,
            "matching": self.matching_url,
            "reporting": self.reporting_url,
        }

    def verification_key_paths(self) -> list[Path]:
        return [Path(p.strip()) for p in self.verification_key_files.split(",") if p.strip()]

    def production_problems(self) -> list[str]:
        problems = super().production_problems()
        if not self.signing_key_file:
            problems.append(
                "GATEWAY_SIGNING_KEY_FILE is unset: production must not use a generated signing key"
            )
        if self.argon2_time_cost < 3 or self.argon2_memory_kib < 65_536:
            problems.append(
                "GATEWAY_ARGON2_TIME_COST / GATEWAY_ARGON2_MEMORY_KIB are below RFC 9106 "
                "(3 passes, 64 MiB)"
            )
        admin = self.admin_credentials()
        if admin is not None and admin[1] == DEV_ADMIN_CLIENT_SECRET:
            problems.append("SINERGI_ADMIN_CLIENT_SECRET is the development default")
        if "*" in self.cors_origins:
            problems.append("GATEWAY_CORS_ORIGINS contains '*': name the web origins")
        dev_clients = [
            client_id
            for client_id, secret in self.effective_service_clients().items()
            if secret.startswith(DEV_SERVICE_SECRET_PREFIX)
        ]
        if dev_clients:
            problems.append(
                "GATEWAY_SERVICE_CLIENTS holds development secrets for "
                + ", ".join(sorted(dev_clients))
            )
        return problems


@cache
def get_settings() -> GatewaySettings:
    return GatewaySettings()
