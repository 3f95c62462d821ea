"""Faults of a real registry process (uvicorn), on SQLite and PostgreSQL:

- SIGTERM while 20 registrations are in flight (held inside the database by a lock the test
  owns): the server stops taking connections, finishes every one of them, commits them, exits 0;
- 20 concurrent writers: every registration answers 201, none "database is locked"; 20 writers
  racing for one NIK: one 201 and nineteen 409, never a 500.
"""

from __future__ import annotations

import contextlib
import signal
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import psycopg
import pytest

from tests.faults.conftest import FaultDb
from tests.faults.residents import resident_body
from tests.faults.support import ServiceProcess
from tests.support.tokens import TestKeys

WRITERS = 20
LOCK_WAIT_ATTEMPTS = 400  # x 0.05 s
SHUTDOWN_ATTEMPTS = 400  # x 0.05 s


def _registry_env(url: str, public_key_file: Path) -> dict[str, str]:
    return {
        "REGISTRY_DATABASE_URL": url,
        "REGISTRY_JWKS_URL": "",
        "REGISTRY_PUBLIC_KEY_FILE": str(public_key_file),
    }


@contextlib.contextmanager
def _registrations_blocked(backend: str, url: str) -> Iterator[threading.Event]:
    """Hold the lock every registration needs until the event is set."""
    release = threading.Event()
    ready = threading.Event()
    failure: list[BaseException] = []

    def hold() -> None:
        try:
            if backend == "sqlite":
                lite = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
                lite.execute("BEGIN IMMEDIATE")  # the write lock: writers wait in busy_timeout
                ready.set()
                release.wait(60)
                lite.execute("ROLLBACK")
                lite.close()
            else:
                with psycopg.connect(url) as conn:
                    conn.execute("LOCK TABLE outbox IN EXCLUSIVE MODE")  # inserts wait
                    ready.set()
                    release.wait(60)
                    conn.rollback()
        except BaseException as exc:  # noqa: BLE001 - reported to the test below
            failure.append(exc)
            ready.set()

    holder = threading.Thread(target=hold)
    holder.start()
    ready.wait(30)
    if failure:
        raise failure[0]
    try:
        yield release
    finally:
        release.set()
        holder.join(30)


def _waiting_on_lock(url: str) -> int:
    database = url.rsplit("/", 1)[1]
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'",
            (database,),
        ).fetchone()
    return int(row[0]) if row else 0


@pytest.mark.anyio
async def test_sigterm_finishes_in_flight_requests(
    backend: str, fault_db: FaultDb, keys: TestKeys, tmp_path: Path, public_key_file: Path
) -> None:
    url = fault_db(backend, "registry")
    registry = ServiceProcess("registry", _registry_env(url, public_key_file), tmp_path).start()
    try:
        headers = keys.headers("government_agency")
        results: dict[int, httpx.Response | BaseException] = {}
        sent: list[int] = []

        async def register(n: int) -> None:
            # One connection per request, so "in flight" means accepted by the server.
            async with httpx.AsyncClient(base_url=registry.base_url, timeout=60) as client:
                try:
                    request = client.build_request(
                        "POST", "/v1/residents", json=resident_body(n), headers=headers
                    )
                    sent.append(n)
                    results[n] = await client.send(request)
                except httpx.HTTPError as exc:
                    results[n] = exc

        with _registrations_blocked(backend, url) as release:
            async with anyio.create_task_group() as group:
                for n in range(WRITERS):
                    group.start_soon(register, n)
                # Every request must be inside the server before the signal.
                for _ in range(LOCK_WAIT_ATTEMPTS):
                    if backend == "postgresql":
                        if await anyio.to_thread.run_sync(_waiting_on_lock, url) >= WRITERS:
                            break
                    elif len(sent) == WRITERS:
                        # The event loop reads sockets in order: once a later request on a
                        # new connection is answered, the earlier ones have been read.
                        async with httpx.AsyncClient(base_url=registry.base_url) as probe:
                            if (await probe.get("/healthz")).status_code == 200:
                                break
                    await anyio.sleep(0.05)
                assert not results, "a registration finished while the lock was held"

                registry.terminate()
                # Shutdown has begun once new connections are refused (or, for one that slipped
                # into the listen backlog just before, closed unread: a probe, not the load).
                for _ in range(SHUTDOWN_ATTEMPTS):
                    try:
                        async with httpx.AsyncClient(base_url=registry.base_url) as late:
                            await late.get("/healthz", timeout=5)
                    except (httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError):
                        break
                    await anyio.sleep(0.05)
                else:
                    pytest.fail("the server kept accepting connections after SIGTERM")
                release.set()
        # uvicorn re-raises the signal once shut down: exiting by SIGTERM is its clean exit.
        assert await anyio.to_thread.run_sync(registry.wait, 30) in (0, -signal.SIGTERM)
    finally:
        registry.stop()

    failures = {n: r for n, r in results.items() if not isinstance(r, httpx.Response)}
    assert not failures, f"in-flight requests failed on shutdown: {failures}"
    statuses = [r.status_code for r in results.values() if isinstance(r, httpx.Response)]
    assert statuses == [201] * WRITERS

    # Each 201 was committed: the registry, started again, lists every one of them.
    restarted = ServiceProcess("registry", _registry_env(url, public_key_file), tmp_path)
    with restarted:
        async with httpx.AsyncClient(base_url=restarted.base_url) as client:
            listed = await client.get("/v1/residents", params={"limit": 100}, headers=headers)
    assert listed.status_code == 200
    assert len(listed.json()["items"]) == WRITERS


@pytest.mark.anyio
async def test_concurrent_writers_never_see_a_locked_database(
    backend: str, fault_db: FaultDb, keys: TestKeys, tmp_path: Path, public_key_file: Path
) -> None:
    url = fault_db(backend, "registry")
    per_writer = 3
    headers = keys.headers("government_agency")
    with ServiceProcess("registry", _registry_env(url, public_key_file), tmp_path) as registry:
        limits = httpx.Limits(max_connections=WRITERS * 2)
        async with httpx.AsyncClient(
            base_url=registry.base_url, timeout=60, limits=limits
        ) as client:
            statuses: list[int] = []
            bodies: list[str] = []

            async def writer(w: int) -> None:
                for i in range(per_writer):
                    response = await client.post(
                        "/v1/residents", json=resident_body(w * per_writer + i), headers=headers
                    )
                    statuses.append(response.status_code)
                    bodies.append(response.text)

            async with anyio.create_task_group() as group:
                for w in range(WRITERS):
                    group.start_soon(writer, w)

            racing: list[int] = []

            async def racer() -> None:
                same = resident_body(9_000)
                racing.append(
                    (await client.post("/v1/residents", json=same, headers=headers)).status_code
                )

            async with anyio.create_task_group() as group:
                for _ in range(WRITERS):
                    group.start_soon(racer)

            listed = await client.get("/v1/residents", params={"limit": 500}, headers=headers)
        log = registry.log()

    assert statuses == [201] * (WRITERS * per_writer), [b for b in bodies if '"status"' in b][:3]
    assert sorted(racing) == [201] + [409] * (WRITERS - 1)
    assert "database is locked" not in log
    assert len(listed.json()["items"]) == WRITERS * per_writer + 1
