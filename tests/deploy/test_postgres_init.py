"""deploy/postgres-init/10-service-databases.sh, run against the real PostgreSQL server: one
database and one role per service, the owner migrates its database, another service's role is
refused, and a missing password stops the script. PostgreSQL only: the script is for it."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import create_engine

from shared.kit.database import normalise_url
from shared.kit.migrations import current_revision, head_revision, upgrade
from tests.deploy.support import DEPLOY
from tests.support.databases import postgres_admin_url, service_dir

SCRIPT = DEPLOY / "postgres-init" / "10-service-databases.sh"


def run_script(databases: list[str], passwords: dict[str, str]) -> subprocess.CompletedProcess[str]:
    admin = urlsplit(postgres_admin_url())
    env = {
        "PATH": os.environ.get("PATH", ""),
        "SINERGI_DATABASES": " ".join(databases),
        "POSTGRES_USER": admin.username or "postgres",
        "PGHOST": admin.hostname or "127.0.0.1",
        "PGPORT": str(admin.port or 5432),
        **({"PGPASSWORD": admin.password} if admin.password else {}),
    }
    env |= {f"{name.upper()}_DB_PASSWORD": password for name, password in passwords.items()}
    return subprocess.run(
        ["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60
    )


def url_for(role: str, password: str, database: str) -> str:
    admin = urlsplit(postgres_admin_url())
    return f"postgresql://{role}:{password}@{admin.hostname}:{admin.port or 5432}/{database}"


@pytest.fixture
def names() -> Iterator[list[str]]:
    run = uuid.uuid4().hex[:8]
    created = [f"sinergi_tinit_{run}_registry", f"sinergi_tinit_{run}_matching"]
    yield created
    with psycopg.connect(postgres_admin_url(), autocommit=True) as conn:
        for name in created:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))


def test_each_service_gets_its_own_database_and_role(names: list[str]) -> None:
    registry, matching = names
    # A quote in a password must not break (or inject into) the SQL the script runs.
    passwords = {registry: uuid.uuid4().hex, matching: 'it\'s-a-"quoted"-password'}
    result = run_script(names, passwords)
    assert result.returncode == 0, result.stderr
    assert f"database {registry} created, owned by role {registry}" in result.stdout

    with psycopg.connect(postgres_admin_url(), autocommit=True) as conn:
        owners: dict[str, str] = dict(
            conn.execute(
                "SELECT datname, pg_get_userbyid(datdba) FROM pg_database WHERE datname = ANY(%s)",
                (names,),
            ).fetchall()
        )
    assert owners == {registry: registry, matching: matching}

    # The owner role migrates its own database to head (it may create its tables).
    url = url_for(registry, passwords[registry], registry)
    upgrade(service_dir("registry"), url)
    engine = create_engine(normalise_url(url))
    assert current_revision(engine) == head_revision(service_dir("registry"))
    engine.dispose()

    # Another service's role is refused: CONNECT is revoked from everyone but the owner.
    with pytest.raises(psycopg.OperationalError, match="permission denied"):
        psycopg.connect(url_for(matching, "x", registry), connect_timeout=5).close()


def test_a_missing_password_stops_the_script(names: list[str]) -> None:
    registry, matching = names
    result = run_script(names, {registry: uuid.uuid4().hex})
    assert result.returncode != 0
    assert f"{matching.upper()}_DB_PASSWORD is not set" in result.stderr
    with psycopg.connect(postgres_admin_url(), autocommit=True) as conn:
        found = conn.execute(
            "SELECT count(*) FROM pg_database WHERE datname = %s", (matching,)
        ).fetchone()
    assert found == (0,)
