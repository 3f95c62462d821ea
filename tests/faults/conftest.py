"""Fixtures of the fault tests.

``fault_db``: fresh migrated databases for one service. SQLite as everywhere; PostgreSQL on a
cluster of our own (one per session), not the machine's shared server. The feed's horizon is
cluster-wide (the oldest open transaction of any database holds every feed back), so on a server
shared with other test runs their open transactions would delay ours at random; the outage
test also stops this cluster.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from shared.kit.migrations import upgrade
from tests.faults.support import ThrowawayPostgres, throwaway_postgres
from tests.support.databases import DatabaseFactory, service_dir
from tests.support.tokens import TestKeys

FaultDb = Callable[..., str]


@pytest.fixture
def public_key_file(keys: TestKeys, tmp_path: Path) -> Path:
    """The test session's public key, for services started as real processes."""
    path = tmp_path / "public.pem"
    path.write_text(keys.public_pem)
    return path


@pytest.fixture(scope="session")
def private_postgres() -> Iterator[ThrowawayPostgres]:
    with throwaway_postgres() as cluster:
        yield cluster


@pytest.fixture(scope="session")
def fault_db(databases: DatabaseFactory, private_postgres: ThrowawayPostgres) -> FaultDb:
    templates: dict[str, str] = {}

    def new(backend: str, service: str, *, migrated: bool = True) -> str:
        if backend == "sqlite":
            return databases.new("sqlite", service, migrated=migrated)
        name = f"{service}_{uuid.uuid4().hex[:8]}"
        template = templates.get(service) if migrated else None
        if migrated and template is None:
            template = f"{service}_template"
            upgrade(service_dir(service), private_postgres.create_database(template))
            templates[service] = template
        with psycopg.connect(private_postgres.url, autocommit=True) as conn:
            statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
            if template:
                statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
            conn.execute(statement)
        return private_postgres.url.rsplit("/", 1)[0] + f"/{name}"

    return new
