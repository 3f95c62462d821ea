"""Alembic helpers: each service has its own ``alembic.ini`` and ``migrations/``, and its
``env.py`` calls :func:`run_env` with that service's metadata alone."""

from __future__ import annotations

from pathlib import Path

from alembic import command, context
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, create_engine, pool
from sqlalchemy.engine import Engine

from shared.kit.database import is_sqlite, normalise_url


def alembic_config(service_dir: Path, url: str) -> Config:
    config = Config(str(service_dir / "alembic.ini"))
    config.set_main_option("script_location", str(service_dir / "migrations"))
    config.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return config


def upgrade(service_dir: Path, url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(service_dir, url), revision)


def downgrade(service_dir: Path, url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(service_dir, url), revision)


def head_revision(service_dir: Path) -> str | None:
    script = ScriptDirectory(str(service_dir / "migrations"))
    return script.get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def migration_engine(url: str) -> Engine:
    # Data migrations bind residents' values: a failing statement must not print them.
    return create_engine(normalise_url(url), poolclass=pool.NullPool, hide_parameters=True)


def run_env(metadata: MetaData, default_url: str) -> None:
    """The body of every service's ``migrations/env.py``: migrate the URL given by the caller
    (tests, ``shared.kit.migrations.upgrade``) or else the service's own setting."""
    config = context.config
    url = normalise_url(config.get_main_option("sqlalchemy.url") or default_url)
    sqlite = is_sqlite(url)
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=metadata, render_as_batch=sqlite)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = migration_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=sqlite,  # SQLite alters tables by copying them
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
