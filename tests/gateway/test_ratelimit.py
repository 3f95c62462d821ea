"""The per-organisation rate limit: 429 with Retry-After and a problem body, in memory and in
Redis, and one organisation's burst does not spend another's budget."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests.gateway.support import ADMIN, gateway_settings, running_gateway, token
from tests.support.ports import free_port

pytestmark = pytest.mark.anyio
REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.mark.parametrize("storage", ["memory", "redis"])
async def test_rate_limit_per_organisation(gateway_db: str, data_dir: Path, storage: str) -> None:
    settings = gateway_settings(
        gateway_db,
        data_dir,
        rate_limit="3/minute",
        redis_url=REDIS_URL if storage == "redis" else "",
        # A fresh key space per test, so repeated or parallel runs never share budgets.
        redis_key_prefix=f"sinergi-test-{uuid.uuid4().hex}",
        # Nothing listens there: admitted requests answer 503, refused ones 429.
        registry_url=f"http://127.0.0.1:{free_port()}",
    )
    async with running_gateway(settings) as (app, client):
        if storage == "redis":
            assert await app.state.admission.rate_limit.storage.check()
        admin = {"Authorization": f"Bearer {await token(client, *ADMIN)}"}
        other = {
            "Authorization": "Bearer "
            + await token(client, "matching-service", "dev-matching-secret")
        }
        statuses = [
            (await client.get("/v1/residents", headers=admin)).status_code for _ in range(3)
        ]
        assert statuses == [503, 503, 503]
        limited = await client.get("/v1/residents", headers=admin)
        assert limited.status_code == 429
        assert limited.headers["content-type"] == "application/problem+json"
        assert limited.json()["type"] == "urn:sinergi:problem:rate-limited"
        assert int(limited.headers["retry-after"]) >= 1
        # The gateway's own routes count against the same budget.
        assert (await client.get("/v1/organisations", headers=admin)).status_code == 429
        # Another organisation still has its own.
        assert (await client.get("/v1/residents", headers=other)).status_code == 503
