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
from tests.faults.residents import resident_body
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


@pytest.mark.anyio
async def test_resident_read_after_postgresql_restart(keys: TestKeys) -> None:
    """GET /v1/residents/{id} has its own pool, which does not ping: the connections it kept
    died with the server, and the first read after the restart still answers (its dropped
    connection is retried once on a new one), with its audit record."""
    with throwaway_postgres() as cluster:
        url = cluster.create_database("registry")
        upgrade(SERVICE_DIR, url)
        app = create_app(
            RegistrySettings(database_url=url, jwks_url="", consume_feeds=False),
            verifier=keys.verifier(),
        )
        agency = keys.headers("government_agency")
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://registry") as client:
            created = await client.post("/v1/residents", json=resident_body(1), headers=agency)
            assert created.status_code == 201, created.text
            path = f"/v1/residents/{created.json()['id']}"
            assert (await client.get(path, headers=agency)).status_code == 200

            # Stopped and started between two reads: the pool's connection is dead, and the
            # read retries on a new one.
            await anyio.to_thread.run_sync(cluster.stop)
            await anyio.to_thread.run_sync(cluster.start)
            restarted = await client.get(path, headers=agency)
            assert restarted.status_code == 200, restarted.text
            assert restarted.json()["nik"] == resident_body(1)["nik"]

            await anyio.to_thread.run_sync(cluster.stop)
            during = await client.get(path, headers=agency, timeout=READINESS_DEADLINE)
            assert during.status_code == 503
            await anyio.to_thread.run_sync(cluster.start)
            after = await client.get(path, headers=agency)
            assert after.status_code == 200, after.text
            audit = await client.get(
                "/v1/audit",
                params={"resident_id": created.json()["id"]},
                headers=keys.headers("admin"),
            )
            assert audit.status_code == 200
            # Three reads answered, three records; the one that failed wrote none.
            assert [r["action"] for r in audit.json()["items"]].count("resident.read") == 3


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
