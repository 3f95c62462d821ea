"""Gateway fixtures: a migrated gateway database on each backend.

Creating and dropping a PostgreSQL database costs about a second here, so the gateway tests
share one database per backend; each test names its organisations and users uniquely
(``unique``) and asserts only on what it made. A test that needs an empty database asks for
``fresh_gateway_db``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.gateway.support import (
    Company,
    admin_headers,
    gateway_settings,
    new_organisation,
    running_gateway,
)
from tests.support.databases import DatabaseFactory


@pytest.fixture(scope="session")
def _gateway_dbs() -> dict[str, str]:
    return {}


@pytest.fixture
def gateway_db(backend: str, databases: DatabaseFactory, _gateway_dbs: dict[str, str]) -> str:
    if backend not in _gateway_dbs:
        _gateway_dbs[backend] = databases.new(backend, "gateway")
    return _gateway_dbs[backend]


@pytest.fixture
def fresh_gateway_db(backend: str, databases: DatabaseFactory) -> str:
    return databases.new(backend, "gateway")


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "var"


@pytest.fixture
async def company(gateway_db: str, data_dir: Path) -> AsyncIterator[Company]:
    async with running_gateway(gateway_settings(gateway_db, data_dir)) as (app, client):
        headers = await admin_headers(client)
        org_id = (await new_organisation(client, headers, "PT Uji"))["id"]
        yield Company(app, client, headers, org_id)
