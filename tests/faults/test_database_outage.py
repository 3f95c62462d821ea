"""The database goes away and comes back: ``/readyz`` says so within 5 s, ``/healthz`` stays up,
and the service serves again without a restart.

PostgreSQL: a throwaway cluster of our own, stopped as a crash (``pg_ctl -m immediate``) and
started again. SQLite: the database file (with its WAL) is moved off its path, as an unmounted
volume would, and put back.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import anyio
import httpx
import pytest

from services.registry.main import SERVICE_DIR, create_app
from services.registry.settings import RegistrySettings
from shared.kit.migrations import upgrade
from tests.faults.support import throwaway_postgres
from tests.support.databases import DatabaseFactory
from tests.support.tokens import TestKeys

# The requirement: readiness must tell the load balancer within 5 s. The client gives up after
# that, so a readiness probe that hangs fails the test instead of passing late.
READINESS_DEADLINE = httpx.Timeout(5.0)
RECOVERY_ATTEMPTS = 100  # x 0.1 s


async def _probe(client: httpx.AsyncClient) -> tuple[int, int]:
    ready = await client.get("/readyz", timeout=READINESS_DEADLINE)
    alive = await client.get("/healthz", timeout=READINESS_DEADLINE)
    return ready.status_code, alive.status_code


async def _outage_and_recovery(
    url: str,
    keys: TestKeys,
    stop: Callable[[], None],
    start: Callable[[], None],
    *,
    reads_fail: bool,
) -> dict[str, object]:
    app = create_app(RegistrySettings(database_url=url, jwks_url=""), verifier=keys.verifier())
    service = keys.headers("service")
    # The app answers a failed request itself (problem details); do not re-raise it here.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://registry") as client:
        assert await _probe(client) == (200, 200)
        assert (await client.get("/v1/changes", headers=service)).status_code == 200

        await anyio.to_thread.run_sync(stop)
        down = await client.get("/readyz", timeout=READINESS_DEADLINE)
        assert down.status_code == 503
        assert down.json()["status"] == "not ready"
        assert (await client.get("/healthz", timeout=READINESS_DEADLINE)).status_code == 200
        during = await client.get("/v1/changes", headers=service, timeout=READINESS_DEADLINE)
        if reads_fail:
            # A request that needs the database fails at once as a retryable problem response.
            assert during.status_code == 503
            assert during.headers["content-type"].startswith("application/problem+json")
            assert during.headers["retry-after"] == "5"
        else:
            # SQLite still reads the moved file through its open handle: stale, never wrong.
            assert during.status_code == 200

        await anyio.to_thread.run_sync(start)
        for _ in range(RECOVERY_ATTEMPTS):
            if (await client.get("/readyz", timeout=READINESS_DEADLINE)).status_code == 200:
                break
            await anyio.sleep(0.1)
        assert await _probe(client) == (200, 200)
        after = await client.get("/v1/changes", headers=service)
        assert after.status_code == 200
        return {"down": down.json()["database"]}


@pytest.mark.anyio
async def test_postgresql_stopped_and_started(keys: TestKeys) -> None:
    with throwaway_postgres() as cluster:
        url = cluster.create_database("registry")
        upgrade(SERVICE_DIR, url)
        outcome = await _outage_and_recovery(
            url, keys, cluster.stop, cluster.start, reads_fail=True
        )
    assert outcome["down"] == {"ok": False, "error": "OperationalError"}


def _sqlite_files(url: str) -> list[Path]:
    path = Path(url.removeprefix("sqlite:///"))
    return [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]


@pytest.mark.anyio
async def test_sqlite_file_gone_and_back(keys: TestKeys, databases: DatabaseFactory) -> None:
    url = databases.new("sqlite", "registry")
    files = _sqlite_files(url)
    parked = [f.with_name(f.name + ".parked") for f in files]

    def stop() -> None:
        for source, target in zip(files, parked, strict=True):
            if source.exists():
                shutil.move(source, target)

    def start() -> None:
        for source, target in zip(parked, files, strict=True):
            if source.exists():
                shutil.move(source, target)

    outcome = await _outage_and_recovery(url, keys, stop, start, reads_fail=False)
    assert outcome["down"] == {"ok": False, "error": "FileNotFoundError"}
