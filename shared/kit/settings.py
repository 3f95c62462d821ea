"""Settings every service shares, read from the environment with the service's own prefix.

Each service subclasses :class:`ServiceSettings` and sets ``env_prefix`` (``REGISTRY_`` and so
on), so ``REGISTRY_DATABASE_URL`` configures the registry alone. A handful of programme-wide
settings (``SINERGI_ENV``) carry the ``SINERGI_`` prefix and are read by every service.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Literal, Self, TypeVar, get_args

from fastapi import Request
from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Environment = Literal["development", "test", "production"]

# The repository's var/ folder holds the embedded SQLite files and the generated signing key.
DEFAULT_DATA_DIR = Path(os.environ.get("SINERGI_DATA_DIR", "var"))


def sinergi_env() -> Environment:
    value = os.environ.get("SINERGI_ENV", "development")
    for environment in get_args(Environment):
        if value == environment:
            known: Environment = environment
            return known
    raise ValueError(f"SINERGI_ENV must be development, test or production, not {value!r}")


class ProductionSettingError(RuntimeError):
    """A development default found where production was asked for; names the setting."""


class ServiceSettings(BaseSettings):
    """The settings common to every service; subclasses add their own."""

    model_config = SettingsConfigDict(extra="ignore", env_file=None)

    service_name: str = "service"
    environment: Environment = Field(default_factory=sinergi_env)
    database_url: str = ""
    allow_sqlite_in_production: bool = False
    # Where tokens are checked: the gateway's JWKS, or a public key PEM file.
    jwks_url: str = "http://127.0.0.1:8000/v1/auth/jwks.json"
    public_key_file: str = ""
    token_issuer: str = "sinergi-gateway"
    token_audience: str = "sinergi"
    # Browsers may call services only through the gateway; services serve no CORS.
    request_timeout_seconds: float = 10.0
    max_body_bytes: int = 1_048_576
    log_level: str = "INFO"

    def sqlite_default(self) -> str:
        return f"sqlite:///{DEFAULT_DATA_DIR / (self.service_name + '.db')}"

    def effective_database_url(self) -> str:
        return self.database_url or self.sqlite_default()

    def production_problems(self) -> list[str]:
        """Development defaults that must not reach production, one message per setting."""
        problems: list[str] = []
        prefix = (self.model_config.get("env_prefix") or "").upper()
        url = self.effective_database_url()
        if url.startswith("sqlite") and not self.allow_sqlite_in_production:
            problems.append(
                f"{prefix}DATABASE_URL is SQLite ({url}); production needs PostgreSQL "
                f"(or set {prefix}ALLOW_SQLITE_IN_PRODUCTION=true on purpose)"
            )
        return problems

    def check_production(self) -> None:
        if self.environment != "production":
            return
        problems = self.production_problems()
        if problems:
            raise ProductionSettingError("; ".join(problems))


DEV_SERVICE_SECRET_PREFIX = "dev-"


class ServiceUrls(BaseSettings):
    """Where the services that others call listen, for those that call them (the gateway, the
    feed consumers); mixed into their settings, so the development ports are stated once.
    Name it before ServiceSettings among the bases: the last base's ``model_config`` wins."""

    registry_url: str = "http://127.0.0.1:8001"
    opportunities_url: str = "http://127.0.0.1:8002"
    matching_url: str = "http://127.0.0.1:8003"


class ConsumerSettings(ServiceUrls, ServiceSettings):
    """Settings of a service that reads other services' change feeds (matching, reporting):
    its own client credentials at the gateway, and where the producers live.

    Unset, the client is ``<service_name>-service`` with the development secret
    ``dev-<service_name>-secret``, the pair the gateway bootstraps outside production; a
    production deployment sets its own secret (``production_problems`` refuses the default).
    """

    gateway_url: str = "http://127.0.0.1:8000"
    client_id: str = ""
    client_secret: str = ""
    feed_poll_seconds: float = 0.5
    feed_batch_size: int = 500

    @model_validator(mode="after")
    def _development_client(self) -> Self:
        self.client_id = self.client_id or f"{self.service_name}-service"
        default_secret = f"{DEV_SERVICE_SECRET_PREFIX}{self.service_name}-secret"
        self.client_secret = self.client_secret or default_secret
        return self

    @property
    def token_url(self) -> str:
        return self.gateway_url.rstrip("/") + "/v1/auth/token"

    def production_problems(self) -> list[str]:
        problems = super().production_problems()
        prefix = (self.model_config.get("env_prefix") or "").upper()
        if not self.client_secret or self.client_secret.startswith(DEV_SERVICE_SECRET_PREFIX):
            problems.append(f"{prefix}CLIENT_SECRET is unset or a development default")
        return problems


SettingsT = TypeVar("SettingsT", bound=ServiceSettings)


def settings_dependency(kind: type[SettingsT]) -> Callable[[Request], Awaitable[SettingsT]]:
    """The dependency that hands a route its app's settings (``app.state.settings``), typed
    as the service's own class. Each service aliases it once in ``deps.py``::

        SettingsDep = Annotated[RegistrySettings, Depends(settings_dependency(RegistrySettings))]

    It is ``async def`` because it does no I/O: FastAPI runs a plain ``def`` dependency in the
    thread pool, a hop per request (profiled on GET /v1/residents/{id}) for an attribute lookup.
    """

    async def dependency(request: Request) -> SettingsT:
        settings = request.app.state.settings
        if not isinstance(settings, kind):  # a wiring mistake, found at the first request
            raise TypeError(f"app.state.settings is {type(settings).__name__}, not {kind.__name__}")
        return settings

    return dependency
