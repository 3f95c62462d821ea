"""The registry's change feed under faults, read through its real ``/v1/changes``:

- a registry write held open in a long transaction while other registrations commit: the
  consumer misses nothing (the feed holds back what committed after the open transaction began);
- a consumer process killed with SIGKILL half-way through a batch and started again: every
  change applied once, none missing, none twice.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import anyio
import httpx
import pytest

from services.registry.main import create_app
from services.registry.residents import service as residents
from services.registry.residents.models import ResidentCreate
from services.registry.settings import RegistrySettings
from shared.kit.database import Database
from tests.faults.conftest import FaultDb
from tests.faults.feed_consumer import ConsumerStore
from tests.faults.residents import resident_body
from tests.faults.support import REPO, ServiceProcess
from tests.support.tokens import TestKeys

MARKER_ATTEMPTS = 600  # x 0.05 s


async def _register(client: httpx.AsyncClient, keys: TestKeys, numbers: range) -> list[str]:
    ids = []
    for n in numbers:
        response = await client.post(
            "/v1/residents", json=resident_body(n), headers=keys.headers("government_agency")
        )
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    return ids


@pytest.mark.anyio
async def test_long_registry_transaction_misses_nothing(
    backend: str, fault_db: FaultDb, keys: TestKeys
) -> None:
    url = fault_db(backend, "registry")
    settings = RegistrySettings(database_url=url, jwks_url="")
    app = create_app(settings, verifier=keys.verifier())
    store = ConsumerStore(fault_db(backend, "feedconsumer", migrated=False))
    transport = httpx.ASGITransport(app=app)
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://registry") as client,
        httpx.AsyncClient(
            transport=transport, base_url="http://registry", headers=keys.headers("service")
        ) as feed_client,
    ):
        before = await _register(client, keys, range(0, 3))

        # The registry's own create, in a registry session that stays open until released.
        opened, release = threading.Event(), threading.Event()
        late: list[str] = []
        principal = await app.state.verifier.verify(keys.token("government_agency"))

        def long_write() -> None:
            db: Database = app.state.db
            with db.session(write=True) as session:
                created = residents.create(
                    session, principal, ResidentCreate.model_validate(resident_body(100)), settings
                )
                session.flush()
                late.append(created.id)
                opened.set()
                release.wait(30)

        writer = threading.Thread(target=long_write)
        writer.start()
        assert await anyio.to_thread.run_sync(opened.wait, 30)

        consumer = store.consumer(feed_client)
        async with anyio.create_task_group() as group:
            after: list[str] = []
            registered = anyio.Event()

            async def register_more() -> None:
                after.extend(await _register(client, keys, range(3, 6)))
                registered.set()

            # PostgreSQL commits these while the long transaction is open, and the feed must
            # hold them back behind it. SQLite serialises every registry session (its reads
            # audit, so they write): the registrations and the consumer's poll wait their turn.
            group.start_soon(register_more)
            if backend == "postgresql":
                await registered.wait()
                await consumer.catch_up()
                seen_while_open = [entity for _, entity, _, _ in store.applied_changes()]
                assert seen_while_open == before
            else:
                group.start_soon(consumer.catch_up)
                assert store.applied_changes() == []  # the poll cannot pass the open writer
            release.set()
            await anyio.to_thread.run_sync(writer.join)

        await consumer.catch_up()

    applied = store.applied_changes()
    assert sorted(entity for _, entity, _, _ in applied) == sorted(before + late + after)
    assert len({cursor for cursor, _, _, _ in applied}) == len(applied) == 7
    assert all(event == "created" for _, _, event, _ in applied)
    assert consumer.state().applied == 7
    store.db.dispose()


def test_consumer_killed_mid_batch_resumes_without_gaps_or_repeats(
    backend: str, fault_db: FaultDb, keys: TestKeys, tmp_path: Path, public_key_file: Path
) -> None:
    registry_url = fault_db(backend, "registry")
    consumer_url = fault_db(backend, "feedconsumer", migrated=False)
    store = ConsumerStore(consumer_url)
    env = {
        "REGISTRY_DATABASE_URL": registry_url,
        "REGISTRY_JWKS_URL": "",
        "REGISTRY_PUBLIC_KEY_FILE": str(public_key_file),
    }
    with ServiceProcess("registry", env, tmp_path) as registry:
        with httpx.Client(base_url=registry.base_url, timeout=10) as client:
            for n in range(25):
                response = client.post(
                    "/v1/residents",
                    json=resident_body(n),
                    headers=keys.headers("government_agency"),
                )
                assert response.status_code == 201, response.text

        marker = tmp_path / "mid-batch"
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.faults.feed_consumer",
                registry.base_url,
                consumer_url,
                str(marker),
            ],
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO), "FEED_TOKEN": keys.token("service")},
        )
        try:
            for _ in range(MARKER_ATTEMPTS):
                if marker.exists() or worker.poll() is not None:
                    break
                threading.Event().wait(0.05)
            assert marker.exists(), "the consumer never reached the middle of its second batch"
            # The injected fault: the process dies with half a batch written, uncommitted.
            worker.send_signal(signal.SIGKILL)
            assert worker.wait(10) == -signal.SIGKILL
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait(5)

        assert len(store.applied_changes()) == 10  # the first batch only, committed whole

        async def restart() -> int:
            async with httpx.AsyncClient(
                base_url=registry.base_url, headers=keys.headers("service"), timeout=10
            ) as feed_client:
                return await store.consumer(feed_client).catch_up()

        assert anyio.run(restart) == 15

    applied = store.applied_changes()
    cursors = [cursor for cursor, _, _, _ in applied]
    assert len(applied) == 25
    assert len(set(cursors)) == 25
    assert len({entity for _, entity, _, _ in applied}) == 25
    # In feed order, as the feed served them: a gap would have shown as a missing cursor.
    assert cursors == sorted(cursors, key=lambda c: tuple(map(int, c.split("."))))
    store.db.dispose()
