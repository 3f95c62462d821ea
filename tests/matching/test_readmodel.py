"""The read model follows the registry and catalogue feeds: a consumer that stops and restarts
loses and duplicates nothing, a stale or repeated change changes nothing, and
``GET /v1/matching/sync`` shows each feed's cursor and lag."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import func, select

from services.matching.main import create_app
from services.matching.readmodel.models import OpportunityView, ResidentView
from shared.kit.feed import record_change
from tests.matching.support import World, resident_payload

pytestmark = pytest.mark.anyio


async def test_restart_loses_and_duplicates_nothing(backend, databases, keys) -> None:  # type: ignore[no-untyped-def]
    world = World(backend, databases, keys, feed_batch_size=10)
    async with world:
        ids = [world.resident(priority_rank=i + 1) for i in range(25)]
        world.resident(id=ids[0], priority_rank=99, event="priority")  # version 2
        # A change delivered again, late, with an older version: it must not win.
        with world.registry.db.session() as session:
            record_change(
                session,
                world.registry.tables,
                entity="resident",
                entity_id=ids[0],
                event="updated",
                version=1,
                payload=resident_payload(priority_rank=1),
            )
        assert await world.app.state.consumers["registry"].poll_once() == 10
    # The process stopped after one batch; a new one starts on the same database.
    restarted = create_app(world.settings, verifier=keys.verifier(), transports=world.transports)
    async with restarted.router.lifespan_context(restarted):
        consumer = restarted.state.consumers["registry"]
        assert await consumer.catch_up() == 17
        assert await consumer.catch_up() == 0  # nothing applied twice
        assert consumer.state().applied == 27
        with restarted.state.db.session(write=False) as session:
            assert session.scalar(select(func.count()).select_from(ResidentView)) == 25
            first = session.get(ResidentView, uuid.UUID(ids[0]))
            assert first is not None and first.version == 2 and first.priority_rank == 99


async def test_background_consumers_and_sync_state(backend, databases, keys) -> None:  # type: ignore[no-untyped-def]
    async with World(backend, databases, keys, consume_feeds=True) as world:
        resident = world.resident()
        opportunity = world.opportunity()
        world.resident(id=resident, event="erased")
        world.opportunity(id=opportunity, event="closed", status="closed")
        state: dict = {}
        for _ in range(200):
            response = await world.client.get("/v1/matching/sync", headers=world.headers())
            state = {f["feed"]: f for f in response.json()["feeds"]}
            if state["registry"]["applied"] == 2 and state["opportunities"]["applied"] == 2:
                break
            await asyncio.sleep(0.05)
        assert state["registry"]["applied"] == 2 and state["opportunities"]["applied"] == 2
        assert state["registry"]["cursor"] != "0.0"
        assert state["registry"]["last_error"] is None
        assert state["registry"]["lag_seconds"] >= 0
        with world.app.state.db.session(write=False) as session:
            erased = session.get(ResidentView, uuid.UUID(resident))
            closed = session.get(OpportunityView, uuid.UUID(opportunity))
            assert erased is not None and erased.status == "erased" and not erased.in_target_group
            assert closed is not None and closed.status == "closed" and closed.version == 2
        denied = await world.client.get(
            "/v1/matching/sync", headers=world.headers("regional_agency")
        )
        assert denied.status_code == 403
