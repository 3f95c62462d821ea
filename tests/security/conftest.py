"""The in-process stack, built once per module and backend for the tests that only read it or
whose writes must be refused anyway (the fuzzer builds its own)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.security.stack import Stack, iter_stack
from tests.support.databases import DatabaseFactory
from tests.support.tokens import TestKeys


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def shared_stack(
    request: pytest.FixtureRequest,
    databases: DatabaseFactory,
    keys: TestKeys,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Stack]:
    yield from iter_stack(str(request.param), databases, keys, tmp_path_factory.mktemp("stack"))
