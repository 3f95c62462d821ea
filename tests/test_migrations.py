"""Every service's migrations go up, down and up again on SQLite and PostgreSQL, and leave the
database matching the models (no change autogenerate would still make)."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine

from shared.kit.database import normalise_url
from shared.kit.migrations import downgrade, head_revision, upgrade
from tests.support.databases import DatabaseFactory, service_dir

SERVICES = sorted(
    p.parent.name for p in (Path(__file__).parents[1] / "services").glob("*/alembic.ini")
)


def _metadata(service: str):  # type: ignore[no-untyped-def]
    module = __import__(f"services.{service}.models", fromlist=["Base"])
    return module.Base.metadata


@pytest.mark.parametrize("service", SERVICES)
def test_up_down_up(service: str, backend: str, databases: DatabaseFactory) -> None:
    url = databases.new(backend, service, migrated=False)
    directory = service_dir(service)
    upgrade(directory, url)
    downgrade(directory, url, "base")
    upgrade(directory, url)
    engine = create_engine(normalise_url(url))
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert context.get_current_revision() == head_revision(directory)
        assert compare_metadata(context, _metadata(service)) == []
    engine.dispose()
