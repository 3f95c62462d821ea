"""POST /v1/residents/{id}/disclosures: only matching's client may disclose, and only what
matching confirms, a placement the resident accepted with that organisation; with matching
unreachable the registry answers 503 and writes nothing (matching's outbox retries)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.gateway.main import create_app as create_gateway
from tests.gateway.support import gateway_settings
from tests.registry.support import (
    Matching,
    WithMatching,
    register,
    registry_client,
    resident,
)
from tests.support.databases import DatabaseFactory
from tests.support.tokens import TestKeys

pytestmark = pytest.mark.anyio
PROVIDER = "org-company-cement"
OTHER_PROVIDER = "org-company-other"


def _body(placement_id: str, org_id: str = PROVIDER) -> dict[str, str]:
    return {
        "org_id": org_id,
        "purpose": "placement",
        "placement_id": placement_id,
        "valid_until": "2099-12-31",
    }


async def _granted(client: httpx.AsyncClient, keys: TestKeys) -> list[dict[str, Any]]:
    response = await client.get(
        "/v1/audit", params={"action": "disclosure.grant"}, headers=keys.headers("admin")
    )
    assert response.status_code == 200, response.text
    return [r for r in response.json()["items"] if r["action"] == "disclosure.grant"]


async def test_only_matchings_client_may_disclose(
    backend: str, databases: DatabaseFactory, keys: TestKeys, tmp_path: Path
) -> None:
    """Tokens as the real gateway issues them to the two internal clients."""
    signing_key = tmp_path / "signing.pem"
    signing_key.write_text(keys.private_pem)
    gateway = create_gateway(
        gateway_settings(
            databases.new(backend, "gateway"), tmp_path / "var", signing_key_file=str(signing_key)
        ),
        configure_logs=False,
    )
    matching = Matching(databases.new(backend, "matching"), keys)
    try:
        async with (
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=gateway), base_url="http://gateway"
            ) as gateway_client,
            registry_client(databases.new(backend, "registry"), keys, matching=matching) as client,
        ):

            async def bearer(client_id: str, secret: str) -> dict[str, str]:
                response = await gateway_client.post(
                    "/v1/auth/token",
                    data={"grant_type": "client_credentials"},
                    auth=(client_id, secret),
                )
                assert response.status_code == 200, response.text
                return {"Authorization": f"Bearer {response.json()['access_token']}"}

            rid = (await register(client, keys.headers("government_agency"), resident(1)))["id"]
            placement = matching.placement(rid, PROVIDER)
            url = f"/v1/residents/{rid}/disclosures"
            reporting = await bearer("reporting-service", "dev-reporting-secret")
            refused = await client.post(url, json=_body(placement), headers=reporting)
            assert refused.status_code == 403, refused.text
            assert await _granted(client, keys) == []
            matching_token = await bearer("matching-service", "dev-matching-secret")
            recorded = await client.post(url, json=_body(placement), headers=matching_token)
            assert recorded.status_code == 201, recorded.text
    finally:
        await gateway.state.aclose()
        gateway.state.db.dispose()


async def test_a_disclosure_needs_a_placement_the_resident_accepted_with_that_organisation(
    registry_matching: WithMatching, keys: TestKeys
) -> None:
    client, matching = registry_matching
    service = keys.headers("service")
    provider = keys.headers("company", org_id=PROVIDER)
    agency = keys.headers("government_agency")
    rid = (await register(client, agency, resident(1)))["id"]
    other = (await register(client, agency, resident(2)))["id"]
    url = f"/v1/residents/{rid}/disclosures"
    refused = {
        "another organisation's": matching.placement(rid, OTHER_PROVIDER),
        "another resident's": matching.placement(other, PROVIDER),
        "only offered": matching.placement(rid, PROVIDER, status="offered"),
        "declined": matching.placement(rid, PROVIDER, status="declined"),
        "unknown": str(uuid.uuid4()),
        "no placement id at all": "p-7",
        "a path, not an id": "../../v1/changes",
    }
    for why, placement_id in refused.items():
        response = await client.post(url, json=_body(placement_id), headers=service)
        assert response.status_code == 422, (why, response.text)
        problem = response.json()
        assert problem["reason"] == "not_a_placement", why
        assert problem["errors"][0]["loc"] == ["body", "placement_id"], why
    assert await _granted(client, keys) == []
    assert (await client.get(f"/v1/residents/{rid}", headers=provider)).status_code == 404

    accepted = matching.placement(rid, PROVIDER)
    first = await client.post(url, json=_body(accepted), headers=service)
    assert first.status_code == 201, first.text
    again = await client.post(url, json=_body(accepted), headers=service)
    assert again.status_code == 200 and again.json() == first.json()
    # Started later: the resident still accepted it.
    started = matching.placement(rid, PROVIDER, status="started")
    assert (await client.post(url, json=_body(started), headers=service)).status_code == 201
    assert (await client.get(f"/v1/residents/{rid}", headers=provider)).status_code == 200
    assert len(await _granted(client, keys)) == 2


async def test_matching_unreachable_is_503_and_nothing_is_written(
    backend: str, databases: DatabaseFactory, keys: TestKeys
) -> None:
    # Port 9 (discard) on the loopback: nothing listens, the connection is refused.
    async with registry_client(
        databases.new(backend, "registry"), keys, matching_url="http://127.0.0.1:9"
    ) as client:
        rid = (await register(client, keys.headers("government_agency"), resident(1)))["id"]
        response = await client.post(
            f"/v1/residents/{rid}/disclosures",
            json=_body(str(uuid.uuid4())),
            headers=keys.headers("service"),
        )
        assert response.status_code == 503, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["type"].endswith("service-unavailable")
        assert await _granted(client, keys) == []
        provider = keys.headers("company", org_id=PROVIDER)
        assert (await client.get(f"/v1/residents/{rid}", headers=provider)).status_code == 404
