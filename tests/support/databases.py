"""Fresh, migrated databases per test, on SQLite and on the PostgreSQL server named by
``TEST_POSTGRES_URL``. Each service is migrated once per session into a template; every test
gets its own copy (a file copy on SQLite, ``CREATE DATABASE ... TEMPLATE`` on PostgreSQL)."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import psycopg
from psycopg import sql

from shared.kit.migrations import upgrade

REPO = Path(__file__).resolve().parents[2]
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def postgres_admin_url() -> str:
    return os.environ.get("TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


def _with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


def service_dir(service: str) -> Path:
    return REPO / "services" / service


class DatabaseFactory:
    """Makes fresh migrated databases for one test session and drops them at the end."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.run_id = uuid.uuid4().hex[:8]
        self._sqlite_templates: dict[str, Path] = {}
        self._pg_templates: dict[str, str] = {}
        self._pg_databases: list[str] = []

    # PostgreSQL ---------------------------------------------------------------------------
    def _admin(self) -> psycopg.Connection:
        try:
            return psycopg.connect(postgres_admin_url(), autocommit=True, connect_timeout=5)
        except psycopg.OperationalError as exc:  # never skip: CI must fail loudly
            raise RuntimeError(
                f"PostgreSQL at TEST_POSTGRES_URL={postgres_admin_url()!r} is unreachable: {exc}"
            ) from exc

    def _create_pg(self, name: str, template: str | None = None) -> str:
        with self._admin() as conn:
            statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
            if template:
                statement = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(name), sql.Identifier(template)
                )
            conn.execute(statement)
        self._pg_databases.append(name)
        return _with_database(postgres_admin_url(), name)

    def postgres(self, service: str, *, migrated: bool = True) -> str:
        if not migrated:
            return self._create_pg(f"sinergi_t{self.run_id}_{service}_{uuid.uuid4().hex[:8]}")
        template = self._pg_templates.get(service)
        if template is None:
            template = f"sinergi_t{self.run_id}_{service}_tpl"
            upgrade(service_dir(service), self._create_pg(template))
            self._pg_templates[service] = template
        return self._create_pg(
            f"sinergi_t{self.run_id}_{service}_{uuid.uuid4().hex[:8]}", template=template
        )

    # SQLite -------------------------------------------------------------------------------
    def sqlite(self, service: str, *, migrated: bool = True) -> str:
        path = self.workdir / f"{service}-{uuid.uuid4().hex[:8]}.db"
        if migrated:
            template = self._sqlite_templates.get(service)
            if template is None:
                template = self.workdir / f"{service}-template.db"
                upgrade(service_dir(service), f"sqlite:///{template}")
                self._sqlite_templates[service] = template
            shutil.copyfile(template, path)
        return f"sqlite:///{path}"

    def new(self, backend: str, service: str, *, migrated: bool = True) -> str:
        if backend == "sqlite":
            return self.sqlite(service, migrated=migrated)
        if backend == "postgresql":
            return self.postgres(service, migrated=migrated)
        raise ValueError(backend)

    def drop_all(self) -> None:
        if not self._pg_databases:
            return
        with self._admin() as conn:
            for name in reversed(self._pg_databases):
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )
