"""The reporting service under test: its own database on the ``backend`` under test, fed by
the fixture programme's producers through real HTTP feeds (in process)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.reporting.programme import Stack, fill, running_stack
from tests.support.databases import DatabaseFactory
from tests.support.tokens import TestKeys


@pytest.fixture
async def empty_stack(
    backend: str, databases: DatabaseFactory, keys: TestKeys, tmp_path: Path
) -> AsyncIterator[Stack]:
    async with running_stack(databases.new(backend, "reporting"), keys, tmp_path) as stack:
        yield stack


@pytest.fixture
async def stack(empty_stack: Stack) -> Stack:
    fill(empty_stack.programme)
    await empty_stack.sync()
    return empty_stack
