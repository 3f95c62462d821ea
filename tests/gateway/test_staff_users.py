"""Deactivating a staff user: admin only, idempotent, scoped to the user's organisation, and
the user can no longer obtain tokens while the organisation's other users still can."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.gateway.support import Company, new_organisation, token

pytestmark = pytest.mark.anyio
PASSWORD = "a long passphrase"


async def _login(client: httpx.AsyncClient, username: str) -> httpx.Response:
    return await client.post(
        "/v1/auth/token",
        data={"grant_type": "password", "username": username, "password": PASSWORD},
    )


async def _user(client: httpx.AsyncClient, headers: dict[str, str], org_id: str) -> dict:
    username = f"op.{uuid.uuid4().hex[:10]}"
    response = await client.post(
        f"/v1/organisations/{org_id}/users",
        json={"username": username, "password": PASSWORD},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    user: dict = response.json()
    return user


async def test_deactivated_user_gets_no_tokens(company: Company) -> None:
    client, headers, org_id = company.client, company.headers, company.org_id
    user, colleague = await _user(client, headers, org_id), await _user(client, headers, org_id)
    assert (await _login(client, user["username"])).status_code == 200

    path = f"/v1/organisations/{org_id}/users/{user['id']}/deactivate"
    first = await client.post(path, headers=headers)
    assert first.status_code == 200, first.text
    assert first.json()["active"] is False
    assert first.json()["id"] == user["id"]
    again = await client.post(path, headers=headers)
    assert again.status_code == 200
    assert again.json() == first.json()

    refused = await _login(client, user["username"])
    assert refused.status_code == 400
    # Same answer as a wrong password: a deactivated account is not revealed.
    assert refused.json()["error"] == "invalid_grant"
    assert (await _login(client, colleague["username"])).status_code == 200

    listed = await client.get(f"/v1/organisations/{org_id}/users", headers=headers)
    states = {u["id"]: u["active"] for u in listed.json()["items"]}
    assert states == {user["id"]: False, colleague["id"]: True}


async def test_deactivate_user_of_another_organisation_or_unknown_is_404(company: Company) -> None:
    client, headers, org_id = company.client, company.headers, company.org_id
    other_org = (await new_organisation(client, headers, "PT Staff"))["id"]
    user = await _user(client, headers, org_id)
    wrong_org = await client.post(
        f"/v1/organisations/{other_org}/users/{user['id']}/deactivate", headers=headers
    )
    assert wrong_org.status_code == 404
    assert wrong_org.headers["content-type"] == "application/problem+json"
    unknown = await client.post(
        f"/v1/organisations/{org_id}/users/{uuid.uuid4()}/deactivate", headers=headers
    )
    assert unknown.status_code == 404
    # Neither touched the user.
    assert (await _login(client, user["username"])).status_code == 200


async def test_deactivate_user_needs_admin(company: Company) -> None:
    client, headers, org_id = company.client, company.headers, company.org_id
    user = await _user(client, headers, org_id)
    path = f"/v1/organisations/{org_id}/users/{user['id']}/deactivate"
    assert (await client.post(path)).status_code == 401
    service = await token(client, "matching-service", "dev-matching-secret")
    forbidden = await client.post(path, headers={"Authorization": f"Bearer {service}"})
    assert forbidden.status_code == 403
    assert (await _login(client, user["username"])).status_code == 200
