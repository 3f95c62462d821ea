"""Gateway fixtures: a migrated gateway database on each backend.

Creating and dropping a PostgreSQL database costs about a second here, so the gateway tests
share one database per backend; each test names its organisations and users uniquely
(``unique``) and asserts only on what it made. A test that needs an empty database asks for
``fresh_gateway_db``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

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
