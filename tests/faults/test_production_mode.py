"""With ``SINERGI_ENV=production`` no service starts on a development default, and the error
names the setting to change (and never prints a secret).

First as an operator meets it: every service started by uvicorn with nothing configured exits
with the setting's name. Then one default at a time, all other settings production-grade.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from shared.kit.settings import ProductionSettingError, ServiceSettings
from tests.deploy.support import settings_class
from tests.faults.support import REPO
from tests.support.databases import DatabaseFactory
from tests.support.ports import free_port
from tests.support.tokens import TestKeys

SERVICES = ("gateway", "registry", "opportunities", "matching", "reporting")
CONSUMERS = ("matching", "reporting", "registry")
# Refusal must come before any connection: nothing listens on port 1.
POSTGRES = "postgresql://sinergi@127.0.0.1:1/{service}"
STRONG = "Vx7Qm2Lp9Rt4Kw8Zc3Nh6Bd1Fg5Js0Ya"  # 32 characters, no development prefix

# The settings each service needs in production, and the defaults that must be refused, as
# (case, overrides, name the error must carry).
BAD_DEFAULTS: dict[str, list[tuple[str, dict[str, Any], str]]] = {
    service: [
        ("sqlite-default", {"database_url": ""}, f"{service.upper()}_DATABASE_URL"),
        ("sqlite-file", {"database_url": "sqlite:///var/x.db"}, f"{service.upper()}_DATABASE_URL"),
    ]
    for service in SERVICES
}
for _service in CONSUMERS:
    BAD_DEFAULTS[_service] += [
        (
            "dev-client-secret",
            {"client_secret": f"dev-{_service}-secret"},
            f"{_service.upper()}_CLIENT_SECRET",
        ),
        ("no-client-secret", {"client_secret": ""}, f"{_service.upper()}_CLIENT_SECRET"),
    ]
BAD_DEFAULTS["reporting"].append(
    (
        "dev-pseudonym-key",
        {"pseudonym_key": "dev-reporting-pseudonym-key-not-for-production"},
        "REPORTING_PSEUDONYM_KEY",
    )
)
BAD_DEFAULTS["gateway"] += [
    ("generated-signing-key", {"signing_key_file": ""}, "GATEWAY_SIGNING_KEY_FILE"),
    (
        "dev-admin-secret",
        {"admin_client_secret": "dev-admin-secret"},
        "SINERGI_ADMIN_CLIENT_SECRET",
    ),
    ("cors-star", {"cors_origins": ["*"]}, "GATEWAY_CORS_ORIGINS"),
    (
        "dev-service-clients",
        {"service_clients": {"matching-service": "dev-matching-secret"}},
        "GATEWAY_SERVICE_CLIENTS",
    ),
]
CASES = [
    pytest.param(service, overrides, name, id=f"{service}-{case}")
    for service, cases in BAD_DEFAULTS.items()
    for case, overrides, name in cases
]


def _production_grade(service: str, signing_key: Path) -> dict[str, Any]:
    values: dict[str, Any] = {"database_url": POSTGRES.format(service=service), "jwks_url": ""}
    if service in CONSUMERS:
        values["client_secret"] = STRONG
    if service == "reporting":
        values["pseudonym_key"] = STRONG
    if service == "gateway":
        values.update(
            signing_key_file=str(signing_key),
            admin_client_id="secretariat",
            admin_client_secret=STRONG,
            cors_origins=["https://sinergi.kotabarukab.go.id"],
            service_clients={
                "matching-service": STRONG,
                "reporting-service": STRONG[::-1],
                "registry-service": STRONG[1:] + STRONG[0],
            },
        )
    return values


@pytest.fixture
def production(monkeypatch: pytest.MonkeyPatch, keys: TestKeys, tmp_path: Path) -> Path:
    """SINERGI_ENV=production and no service setting from the environment; a signing key."""
    for name in list(os.environ):
        if name.split("_", 1)[0] in {s.upper() for s in SERVICES} or name.startswith(
            "SINERGI_ADMIN"
        ):
            monkeypatch.delenv(name)
    monkeypatch.setenv("SINERGI_ENV", "production")
    key = tmp_path / "signing.pem"
    key.write_text(keys.private_pem)
    return key


def _create(service: str, settings: ServiceSettings) -> object:
    module = importlib.import_module(f"services.{service}.main")
    return module.create_app(settings)


@pytest.mark.parametrize(("service", "overrides", "setting"), CASES)
def test_development_default_is_refused_by_name(
    service: str, overrides: dict[str, Any], setting: str, production: Path
) -> None:
    values = _production_grade(service, production) | overrides
    settings = settings_class(service)(**values)
    assert settings.environment == "production"
    with pytest.raises(ProductionSettingError) as refused:
        _create(service, settings)
    message = str(refused.value)
    assert setting in message
    assert STRONG not in message and STRONG[::-1] not in message


@pytest.mark.parametrize("service", SERVICES)
def test_production_grade_settings_start(
    service: str, production: Path, databases: DatabaseFactory
) -> None:
    """The check refuses defaults, not production as such."""
    values = _production_grade(service, production)
    values["database_url"] = databases.new("postgresql", service)
    settings = settings_class(service)(**values)
    assert _create(service, settings) is not None


@pytest.mark.parametrize("service", SERVICES)
def test_sqlite_only_when_explicitly_allowed(
    service: str, production: Path, databases: DatabaseFactory
) -> None:
    values = _production_grade(service, production) | {
        "database_url": databases.new("sqlite", service),
        "allow_sqlite_in_production": True,
    }
    assert _create(service, settings_class(service)(**values)) is not None


def test_every_service_refuses_to_start_unconfigured() -> None:
    """``uvicorn --factory`` with SINERGI_ENV=production and nothing else: each process exits
    non-zero and its output names the database setting."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name.split("_", 1)[0] not in {s.upper() for s in SERVICES}
        and not name.startswith("SINERGI_")
    }
    env |= {"SINERGI_ENV": "production", "PYTHONPATH": str(REPO)}
    processes = {
        service: subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                f"services.{service}.main:create_app",
                "--host",
                "127.0.0.1",
                "--port",
                str(free_port()),
            ],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for service in SERVICES
    }
    outputs: dict[str, tuple[int, str]] = {}
    try:
        for service, process in processes.items():
            out, _ = process.communicate(timeout=60)
            outputs[service] = (process.returncode, out.decode(errors="replace"))
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.kill()
                process.wait(5)
    for service, (code, output) in outputs.items():
        assert code != 0, f"{service} started in production with development defaults"
        assert "ProductionSettingError" in output, output
        assert f"{service.upper()}_DATABASE_URL" in output, output
