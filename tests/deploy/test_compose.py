"""deploy/compose.yaml against the code: every variable a setting, every service its database,
its migration and its port, only the gateway published, and a configuration that the services'
own production checks accept."""

from __future__ import annotations

import re
import secrets
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.deploy.support import (
    DEPLOY,
    SERVICES,
    default_port,
    env_example,
    env_prefix,
    interpolate,
    interpolation_variables,
    load_compose,
    option,
    procfile_commands,
    production_settings,
    programme_env_names,
    setting_env_names,
    settings_class,
    uvicorn_target,
)

COMPOSE_TEXT = (DEPLOY / "compose.yaml").read_text()
COMPOSE = load_compose()
INIT_SCRIPT = DEPLOY / "postgres-init" / "10-service-databases.sh"


def sample_variables() -> dict[str, str]:
    """deploy/.env as an operator fills it in: env.example with every placeholder replaced."""
    return {
        name: (secrets.token_hex(16) if value == "change-me" else value)
        for name, value in env_example().items()
    }


def app(service: str) -> dict[str, Any]:
    definition = COMPOSE["services"].get(service)
    assert definition is not None, f"compose.yaml has no service {service}"
    assert isinstance(definition, dict)
    return definition


def environment(service: str) -> dict[str, str]:
    env = app(service).get("environment", {})
    assert isinstance(env, dict), f"{service}: environment should be a mapping"
    return {name: str(value) for name, value in env.items()}


def test_every_service_runs_from_the_image_with_its_procfile_command() -> None:
    procfile = procfile_commands()
    for service in SERVICES:
        definition = app(service)
        assert definition["image"].startswith("sinergi:")
        assert definition["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
        command = definition["command"]
        assert command[0] == "uvicorn" and "--factory" in command
        assert uvicorn_target(command) == f"services.{service}.main:create_app"
        assert uvicorn_target(procfile[service]) == uvicorn_target(command)
        # The same port as `make run` and the settings' own default, so URLs agree everywhere.
        assert option(command, "--port") == str(default_port(service))
        assert option(procfile[service], "--port") == str(default_port(service))
        # Inside the container every interface: the container network is the boundary.
        assert option(command, "--host") == "0.0.0.0"  # noqa: S104
        assert definition.get("read_only") is True


def test_only_the_gateway_is_published() -> None:
    published = sorted(name for name, d in COMPOSE["services"].items() if d.get("ports"))
    assert published == ["gateway"]
    assert app("gateway")["ports"] == ["${SINERGI_HTTP_PORT:-8000}:8000"]
    for service in SERVICES:
        if service != "gateway":
            assert app(service)["expose"] == [str(default_port(service))]


@pytest.mark.parametrize("service", SERVICES)
def test_every_variable_is_a_setting_of_that_service(service: str) -> None:
    known = setting_env_names(settings_class(service)) | programme_env_names()
    unknown = sorted(set(environment(service)) - known)
    assert unknown == [], f"{service}: compose sets variables no setting reads: {unknown}"
    migration = environment(f"migrate-{service}")
    assert set(migration) <= known


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_has_its_own_database_and_a_migration_before_it_starts(
    service: str,
) -> None:
    prefix = env_prefix(settings_class(service))
    url = environment(service)[prefix + "DATABASE_URL"]
    parts = urlsplit(url)
    assert parts.scheme == "postgresql"
    # Its own database, opened with its own role (created by the init script).
    assert (parts.hostname, parts.port) == ("postgres", 5432)
    assert parts.path == f"/{service}" and parts.username == service
    assert parts.password == f"${{{service.upper()}_DB_PASSWORD}}"
    assert f"{service.upper()}_DB_PASSWORD" in app("postgres")["environment"]

    migration = app(f"migrate-{service}")
    assert migration["command"] == [
        "alembic",
        "-c",
        f"services/{service}/alembic.ini",
        "upgrade",
        "head",
    ]
    assert (DEPLOY.parent / "services" / service / "alembic.ini").exists()
    assert environment(f"migrate-{service}") == {prefix + "DATABASE_URL": url}
    assert migration["restart"] == "no"
    assert migration["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert app(service)["depends_on"][f"migrate-{service}"] == {
        "condition": "service_completed_successfully"
    }


def test_the_init_script_creates_every_database() -> None:
    postgres = app("postgres")
    assert "./postgres-init:/docker-entrypoint-initdb.d:ro" in postgres["volumes"]
    match = re.search(r'SINERGI_DATABASES:-([a-z ]+)\}"', INIT_SCRIPT.read_text())
    assert match is not None
    assert sorted(match.group(1).split()) == SERVICES


def test_urls_name_the_services_that_answer_there() -> None:
    ports = {service: default_port(service) for service in SERVICES} | {
        "redis": 6379,
        "postgres": 5432,
    }
    checked = 0
    for service in SERVICES:
        for name, value in environment(service).items():
            if not re.match(r"^(https?|redis)://", value):
                continue
            parts = urlsplit(value)
            assert parts.hostname in COMPOSE["services"], f"{service} {name}: {value}"
            assert parts.port == ports[str(parts.hostname)], f"{service} {name}: {value}"
            checked += 1
    assert checked >= 10
    assert app("gateway")["depends_on"]["redis"] == {"condition": "service_healthy"}


def test_every_interpolated_variable_is_in_env_example() -> None:
    example = env_example()
    for name, default in interpolation_variables(COMPOSE_TEXT).items():
        if name in ("SINERGI_IMAGE_TAG", "GATEWAY_VERIFICATION_KEY_FILES"):
            continue  # optional: a build tag, and the extra keys of a rotation (README)
        assert name in example or default is not None, f"${{{name}}} missing from env.example"


@pytest.mark.parametrize("service", SERVICES)
def test_the_configuration_passes_the_services_production_checks(
    service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    cls = settings_class(service)
    variables = sample_variables()
    env = {name: interpolate(value, variables) for name, value in environment(service).items()}
    settings = production_settings(cls, env, monkeypatch)
    assert settings.environment == "production"
    if service == "gateway":
        clients = settings.effective_service_clients()  # type: ignore[attr-defined]
        assert clients == {
            "matching-service": variables["MATCHING_CLIENT_SECRET"],
            "reporting-service": variables["REPORTING_CLIENT_SECRET"],
            "registry-service": variables["REGISTRY_CLIENT_SECRET"],
        }
        assert settings.cors_origins == []  # type: ignore[attr-defined]
    if service in ("matching", "reporting", "registry"):
        # The client the gateway creates is the one the consumer logs in with.
        assert settings.client_id == f"{service}-service"  # type: ignore[attr-defined]
        assert settings.client_secret == variables[f"{service.upper()}_CLIENT_SECRET"]  # type: ignore[attr-defined]
