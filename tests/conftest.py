"""Fixtures every test may use.

- ``backend``: parametrises a test over ``sqlite`` and ``postgresql`` (PostgreSQL at
  ``TEST_POSTGRES_URL``; unreachable is a failure, never a skip).
- ``databases``: ``databases.new(backend, "registry")`` gives a fresh migrated database URL.
- ``keys``: the session's signing key; ``keys.token("village_government", region=...)`` and
  ``keys.verifier()`` for an app under test.
- ``anyio_backend``: async tests run on asyncio (mark them ``@pytest.mark.anyio``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.databases import DatabaseFactory
from tests.support.tokens import TestKeys

os.environ.setdefault("SINERGI_ENV", "test")


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseFactory]:
    factory = DatabaseFactory(Path(tmp_path_factory.mktemp("databases")))
    yield factory
    factory.drop_all()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def keys() -> TestKeys:
    return TestKeys()
