"""In production the gateway refuses to start on development defaults, naming the setting."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from services.gateway.main import create_app
from services.gateway.settings import GatewaySettings
from shared.kit.settings import ProductionSettingError


def _production(tmp_path: Path, **overrides: Any) -> GatewaySettings:
    key = tmp_path / "signing.pem"
    key.write_text("unused: the refusal comes before the key is read")
    values: dict[str, Any] = {
        "environment": "production",
        "database_url": "postgresql://gateway@db.internal/gateway",
        "signing_key_file": str(key),
        "admin_client_id": "secretariat",
        "admin_client_secret": "a-long-production-secret",
        "service_clients": {"matching-service": "prod-m", "reporting-service": "prod-r"},
        "cors_origins": ["https://sinergi.kotabarukab.go.id"],
    }
    values.update(overrides)
    return GatewaySettings(**values)


def test_production_settings_pass(tmp_path: Path) -> None:
    assert _production(tmp_path).production_problems() == []


@pytest.mark.parametrize(
    ("overrides", "setting"),
    [
        ({"signing_key_file": ""}, "GATEWAY_SIGNING_KEY_FILE"),
        ({"admin_client_secret": "dev-admin-secret"}, "SINERGI_ADMIN_CLIENT_SECRET"),
        ({"database_url": ""}, "GATEWAY_DATABASE_URL"),
        ({"database_url": "sqlite:///var/gateway.db"}, "GATEWAY_DATABASE_URL"),
        ({"cors_origins": ["*"]}, "GATEWAY_CORS_ORIGINS"),
        ({"service_clients": None}, None),
        (
            {"service_clients": {"matching-service": "dev-matching-secret"}},
            "GATEWAY_SERVICE_CLIENTS",
        ),
        ({"argon2_time_cost": 1}, "GATEWAY_ARGON2_TIME_COST"),
    ],
)
def test_refuses_to_start_naming_the_setting(
    tmp_path: Path, overrides: dict[str, Any], setting: str | None
) -> None:
    settings = _production(tmp_path, **overrides)
    if setting is None:
        # Unset in production means no internal clients, not the development ones.
        assert settings.effective_service_clients() == {}
        return
    with pytest.raises(ProductionSettingError, match=setting):
        create_app(settings, configure_logs=False)


def test_sqlite_allowed_in_production_on_purpose(tmp_path: Path) -> None:
    settings = _production(
        tmp_path, database_url="sqlite:///var/gateway.db", allow_sqlite_in_production=True
    )
    assert settings.production_problems() == []


def test_development_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SINERGI_ADMIN_CLIENT_ID", raising=False)
    monkeypatch.delenv("SINERGI_ADMIN_CLIENT_SECRET", raising=False)
    settings = GatewaySettings(environment="development")
    assert settings.admin_credentials() == ("sinergi-admin", "dev-admin-secret")
    assert settings.effective_service_clients() == {
        "matching-service": "dev-matching-secret",
        "reporting-service": "dev-reporting-secret",
        "registry-service": "dev-registry-secret",
    }
    monkeypatch.setenv("SINERGI_ADMIN_CLIENT_ID", "secretariat")
    monkeypatch.setenv("SINERGI_ADMIN_CLIENT_SECRET", "s3cret-from-env")
    monkeypatch.setenv("GATEWAY_SERVICE_CLIENTS", '{"matching-service": "m"}')
    monkeypatch.setenv("GATEWAY_CORS_ORIGINS", '["https://a.example"]')
    from_env = GatewaySettings()
    assert from_env.admin_credentials() == ("secretariat", "s3cret-from-env")
    assert from_env.effective_service_clients() == {"matching-service": "m"}
    assert from_env.cors_origins == ["https://a.example"]
    monkeypatch.setenv("GATEWAY_CORS_ORIGINS", "https://a.example, https://b.example")
    assert GatewaySettings().cors_origins == ["https://a.example", "https://b.example"]
