"""The read model follows the feeds: a change reaches the summary while the service runs,
nothing is lost or counted twice across restarts and repeated changes."""

from __future__ import annotations

import anyio
import httpx
import pytest
from sqlalchemy import func, select

from services.reporting.readmodel.tasks import catch_up_all
from tests.reporting.programme import MEGASARI, TARJUN, Stack, fill, reporting_app, uid
from tests.support.tokens import TestKeys

pytestmark = pytest.mark.anyio


async def _registered(client: httpx.AsyncClient, keys: TestKeys) -> int:
    body = (await client.get("/v1/reports/summary", headers=keys.headers("admin"))).json()
    return int(body["residents"]["registered"])


async def _wait_for_registered(client: httpx.AsyncClient, keys: TestKeys, count: int) -> None:
    """Polls the summary until it counts ``count`` residents; fails after 600 polls."""
    for _ in range(600):
        if await _registered(client, keys) == count:
            return
        await anyio.sleep(0.05)
    raise AssertionError(f"the summary never counted {count} residents")


async def test_a_change_reaches_the_summary_while_running(
    empty_stack: Stack, keys: TestKeys
) -> None:
    stack = empty_stack
    fill(stack.programme)
    # A hang anywhere in the running service fails the test instead of the whole session.
    with anyio.fail_after(120):
        await _run_and_change(stack, keys)
    # Stopped, the service still reports where each feed stands.
    sync = (await stack.client.get("/v1/reports/sync", headers=keys.headers("admin"))).json()
    assert sync["caught_up"] is True


async def _run_and_change(stack: Stack, keys: TestKeys) -> None:
    async with stack.app.router.lifespan_context(stack.app):
        # The consumers poll in the background; no test code applies anything.
        await _wait_for_registered(stack.client, keys, 7)
        stack.programme.register("r9", TARJUN, "F", 19, "senior_secondary", 1, "07-09")
        await _wait_for_registered(stack.client, keys, 8)
        sync = (await stack.client.get("/v1/reports/sync", headers=keys.headers("admin"))).json()
    assert [feed["feed"] for feed in sync["feeds"]] == ["registry", "opportunities", "matching"]
    producer = stack.programme.registry
    with producer.db.session(write=False) as session:
        written = session.execute(select(func.count()).select_from(producer.tables.outbox))
        assert sync["feeds"][0]["applied"] == written.scalar_one()
    assert all(feed["last_error"] is None for feed in sync["feeds"])
    denied = await stack.client.get("/v1/reports/sync", headers=keys.headers("regional_agency"))
    assert denied.status_code == 403


async def test_restart_and_repeated_changes_count_once(stack: Stack, keys: TestKeys) -> None:
    before = (await stack.client.get("/v1/reports/summary", headers=keys.headers("admin"))).json()
    feed_before = (
        await stack.client.get("/v1/reports/feed", headers=keys.headers("admin"))
    ).json()["items"]

    # A restarted service over the same database resumes from its stored cursors.
    restarted = reporting_app(stack.settings, keys, stack.transports)
    assert await stack.sync() == 0
    assert await catch_up_all(restarted) == 0

    # A producer that sends a change again (same version) changes nothing.
    programme = stack.programme
    state = programme.resident_state["r1"]
    programme.registry.replay(
        "resident",
        uid("r1"),
        "verified",
        2,
        {
            **state,
            "district_code": "63.02.17",
            "regency_code": "63.02",
            "disability": [],
            "productive_age": True,
            "in_target_group": True,
            "status": "verified",
            "independent_at": None,
            "follow_up": None,
        },
    )
    programme.step("p1", "completed", "10-01")  # a newer version with the same facts
    assert await catch_up_all(restarted) == 2
    after = (await stack.client.get("/v1/reports/summary", headers=keys.headers("admin"))).json()
    assert after == before
    feed_after = (await stack.client.get("/v1/reports/feed", headers=keys.headers("admin"))).json()[
        "items"
    ]
    assert feed_after == feed_before

    # A change that breaks the contract (no village) is skipped, not a feed stuck forever.
    programme.registry.publish("resident", uid("broken"), "created", {"sex": "F", "age": 30})
    programme.register("r9", TARJUN, "F", 19, "senior_secondary", 1, "07-09")
    assert await catch_up_all(restarted) == 2
    assert await _registered(stack.client, keys) == 8

    # Erasure keeps only the aggregate fields: the resident stays counted as registered and
    # verified on the days they were.
    erased = {"village_code": MEGASARI, "age": 28, "sex": "M", "welfare_decile": 6}
    programme.registry.publish("resident", uid("r6"), "erased", {**erased, "status": "erased"})
    assert await catch_up_all(restarted) == 1
    summary = (await stack.client.get("/v1/reports/summary", headers=keys.headers("admin"))).json()
    assert (summary["residents"]["registered"], summary["residents"]["verified"]) == (8, 6)
    restarted.state.db.dispose()
