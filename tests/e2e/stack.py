"""The five services as real uvicorn processes on free ports, wired to each other by their
settings (no defaults to ports 8000-8004, so a developer's `make run` never interferes).

Each is a ``tests.support.processes.UvicornProcess``, ready once its ``/readyz`` answers;
the domain services start first, the gateway last (its readiness includes theirs). Logs go
to one file per service in the stack's work directory, which a failing test prints.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.ports import free_port
from tests.support.processes import REPO, UvicornProcess

DOMAIN_SERVICES = ("registry", "opportunities", "matching", "reporting")
SERVICES = (*DOMAIN_SERVICES, "gateway")


@dataclass
class Stack:
    """``database_url(service)`` gives each service a fresh, migrated database."""

    workdir: Path
    database_url: Callable[[str], str]
    extra_env: dict[str, str] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=lambda: {s: free_port() for s in SERVICES})
    _processes: dict[str, UvicornProcess] = field(default_factory=dict)

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    @property
    def gateway_url(self) -> str:
        return self.url("gateway")

    def environment(self) -> dict[str, str]:
        gateway = self.gateway_url
        env = {
            "PYTHONPATH": str(REPO),
            "SINERGI_ENV": "development",
            "SINERGI_DATA_DIR": str(self.workdir),
            # Cheaper argon2 than production's RFC 9106 cost (refused there), so the many
            # token requests of the tests stay fast; a generous limit for the access matrix.
            "GATEWAY_ARGON2_TIME_COST": "1",
            "GATEWAY_ARGON2_MEMORY_KIB": "8192",
            "GATEWAY_ARGON2_PARALLELISM": "1",
            "GATEWAY_RATE_LIMIT": "100000/minute",
            "GATEWAY_ORG_STATUS_TTL_SECONDS": "0",
        }
        for service in DOMAIN_SERVICES:
            env[f"GATEWAY_{service.upper()}_URL"] = self.url(service)
        for service in SERVICES:
            env[f"{service.upper()}_DATABASE_URL"] = self.database_url(service)
        for service in DOMAIN_SERVICES:
            env[f"{service.upper()}_JWKS_URL"] = f"{gateway}/v1/auth/jwks.json"
        for consumer in ("MATCHING", "REPORTING", "REGISTRY"):
            env[f"{consumer}_GATEWAY_URL"] = gateway
            env[f"{consumer}_REGISTRY_URL"] = self.url("registry")
            env[f"{consumer}_OPPORTUNITIES_URL"] = self.url("opportunities")
            env[f"{consumer}_FEED_POLL_SECONDS"] = "0.2"
        env["REPORTING_MATCHING_URL"] = self.url("matching")
        env["REGISTRY_MATCHING_URL"] = self.url("matching")
        # The registry reads matching's placement feed (the visit plan) with its own token.
        env["REGISTRY_GATEWAY_URL"] = gateway
        env["REGISTRY_FEED_POLL_SECONDS"] = "0.2"
        env["MATCHING_DISCLOSURE_RETRY_SECONDS"] = "1"
        return {**env, **self.extra_env}

    def log_file(self, service: str) -> Path:
        return self.workdir / f"{service}.log"

    def start(self, timeout: float = 90) -> Stack:
        env = self.environment()
        try:
            for service in SERVICES:
                self._start_one(service, env, timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _start_one(self, service: str, env: dict[str, str], timeout: float) -> None:
        process = UvicornProcess(
            service,
            f"services.{service}.main:create_app",
            env,
            self.log_file(service),
            port=self.ports[service],
        )
        self._processes[service] = process.start(timeout)

    def log_tail(self, service: str, chars: int = 3000) -> str:
        path = self.log_file(service)
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""

    def stop(self) -> None:
        for service in reversed(SERVICES):
            process = self._processes.pop(service, None)
            if process is not None:
                process.stop()
