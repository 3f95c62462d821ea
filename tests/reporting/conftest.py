"""The reporting service under test: its own database on the ``backend`` under test, fed by
the fixture programme's producers through real HTTP feeds (in process)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.reporting.programme import (
    Stack,
    build_settings,
    fill,
    producers,
    reporting_app,
    transports_for,
)
from tests.support.databases import DatabaseFactory
from tests.support.tokens import TestKeys


@pytest.fixture
async def empty_stack(
    backend: str, databases: DatabaseFactory, keys: TestKeys, tmp_path: Path
) -> AsyncIterator[Stack]:
    settings = build_settings(databases.new(backend, "reporting"))
    programme = producers(tmp_path, keys)
    transports = transports_for(programme, keys, settings)
    app = reporting_app(settings, keys, transports)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://reporting") as client:
        yield Stack(app, client, programme, settings, transports)
    app.state.db.dispose()
    for producer in (programme.registry, programme.opportunities, programme.matching):
        producer.db.dispose()


@pytest.fixture
async def stack(empty_stack: Stack) -> Stack:
    fill(empty_stack.programme)
    await empty_stack.sync()
    return empty_stack
