"""Registry fixtures: ``registry``, the registry app over a fresh database of the backend
under test, which is where most registry tests start; ``wired``, the registry reading the real
matching app's placement feed (``tests.registry.notifying``), where the notification tests
start; ``registry_matching``, the registry asking the real matching app
(``registry_with_matching``), as ``(client, matching)``."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.registry.notifying import Wired, notifying
from tests.registry.support import WithMatching, registry_client, registry_with_matching
from tests.support.databases import DatabaseFactory
from tests.support.tokens import TestKeys


@pytest.fixture
async def registry(
    keys: TestKeys, backend: str, databases: DatabaseFactory
) -> AsyncIterator[httpx.AsyncClient]:
    async with registry_client(databases.new(backend, "registry"), keys) as client:
        yield client


@pytest.fixture
async def wired(keys: TestKeys, backend: str, databases: DatabaseFactory) -> AsyncIterator[Wired]:
    async with notifying(keys, backend, databases) as wired:
        yield wired


@pytest.fixture
async def registry_matching(
    keys: TestKeys, backend: str, databases: DatabaseFactory
) -> AsyncIterator[WithMatching]:
    async with registry_with_matching(keys, backend, databases) as both:
        yield both
