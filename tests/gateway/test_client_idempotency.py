"""Idempotency-Key on POST /v1/organisations/{id}/clients: a retry with the same key and body
within 24 h answers the credential issued the first time, never its secret again and never a
second credential; another body under the key is 422; an expired key issues anew."""

from __future__ import annotations

import uuid
from datetime import timedelta

import anyio
import httpx
import pytest
from sqlmodel import col, select

from services.gateway.organisations.models import ClientCredential
from shared.kit.time import utcnow
from tests.gateway.support import Company, new_organisation

pytestmark = pytest.mark.anyio


async def _issue(
    client: httpx.AsyncClient, headers: dict[str, str], org_id: str, key: str | None, **body: str
) -> httpx.Response:
    extra = {"Idempotency-Key": key} if key is not None else {}
    return await client.post(
        f"/v1/organisations/{org_id}/clients", json=body or None, headers=headers | extra
    )


async def _client_ids(client: httpx.AsyncClient, headers: dict[str, str], org_id: str) -> list:
    listed = await client.get(f"/v1/organisations/{org_id}/clients", headers=headers)
    return [c["client_id"] for c in listed.json()]


async def test_retry_answers_first_credential_without_secret(company: Company) -> None:
    client, headers, org_id = company.client, company.headers, company.org_id
    key = str(uuid.uuid4())
    first = await _issue(client, headers, org_id, key, label="SIAK bridge")
    assert first.status_code == 201, first.text
    assert first.json()["client_secret"]
    retry = await _issue(client, headers, org_id, key, label="SIAK bridge")
    assert retry.status_code == 200, retry.text
    assert retry.headers["cache-control"] == "no-store"
    assert "client_secret" not in retry.json()
    assert {k: v for k, v in first.json().items() if k != "client_secret"} == retry.json()
    assert await _client_ids(client, headers, org_id) == [first.json()["client_id"]]

    # The first secret still works; the retry changed nothing.
    login = await client.post(
        "/v1/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": first.json()["client_id"],
            "client_secret": first.json()["client_secret"],
        },
    )
    assert login.status_code == 200


async def test_other_body_under_the_key_is_422_and_no_key_always_issues(company: Company) -> None:
    client, headers, org_id = company.client, company.headers, company.org_id
    other_org = (await new_organisation(client, headers, "PT Kunci"))["id"]
    key = str(uuid.uuid4())
    first = await _issue(client, headers, org_id, key, label="one")
    assert first.status_code == 201
    clash = await _issue(client, headers, org_id, key, label="two")
    assert clash.status_code == 422
    assert clash.headers["content-type"] == "application/problem+json"
    assert clash.json()["errors"][0]["loc"] == ["header", "Idempotency-Key"]
    # The key belongs to its organisation: elsewhere it issues a credential of its own.
    elsewhere = await _issue(client, headers, other_org, key, label="one")
    assert elsewhere.status_code == 201
    assert elsewhere.json()["client_id"] != first.json()["client_id"]
    # Without a key every call issues a new credential, as before.
    plain = [await _issue(client, headers, org_id, None) for _ in range(2)]
    assert [r.status_code for r in plain] == [201, 201]
    assert len(await _client_ids(client, headers, org_id)) == 3

    too_long = await _issue(client, headers, org_id, "k" * 101)
    assert too_long.status_code == 422
    assert "idempotency-key" in str(too_long.json()["errors"][0]["loc"]).lower()
    assert len(await _client_ids(client, headers, org_id)) == 3


async def test_lost_answer_is_recovered_by_revoking_and_issuing_anew(company: Company) -> None:
    client, headers, org_id = company.client, company.headers, company.org_id
    key = str(uuid.uuid4())
    await _issue(client, headers, org_id, key)  # its answer is "lost"
    replay = (await _issue(client, headers, org_id, key)).json()
    revoked = await client.post(
        f"/v1/organisations/{org_id}/clients/{replay['client_id']}/revoke", headers=headers
    )
    assert revoked.status_code == 200
    fresh = await _issue(client, headers, org_id, str(uuid.uuid4()))
    assert fresh.status_code == 201
    assert fresh.json()["client_secret"]
    # Replaying the first key now shows the revoked record, still without a secret.
    again = await _issue(client, headers, org_id, key)
    assert again.status_code == 200
    assert again.json()["revoked_at"] is not None
    assert "client_secret" not in again.json()


async def test_key_older_than_a_day_issues_anew(company: Company) -> None:
    app, client, headers, org_id = company.app, company.client, company.headers, company.org_id
    key = str(uuid.uuid4())
    first = await _issue(client, headers, org_id, key)
    assert first.status_code == 201
    # Age the first credential past the 24-hour window instead of waiting for it.
    with app.state.db.session() as session:
        credential = session.exec(
            select(ClientCredential).where(
                col(ClientCredential.client_id) == first.json()["client_id"]
            )
        ).one()
        credential.created_at = utcnow() - timedelta(hours=25)
        session.add(credential)
    later = await _issue(client, headers, org_id, key)
    assert later.status_code == 201, later.text
    assert later.json()["client_secret"]
    assert later.json()["client_id"] != first.json()["client_id"]
    # The new credential now holds the key.
    assert (await _issue(client, headers, org_id, key)).json()["client_id"] == (
        later.json()["client_id"]
    )


async def test_concurrent_retries_issue_one_credential(company: Company) -> None:
    client, headers, org_id = company.client, company.headers, company.org_id
    key = str(uuid.uuid4())
    responses: list[httpx.Response] = []

    async def issue() -> None:
        responses.append(await _issue(client, headers, org_id, key, label="raced"))

    async with anyio.create_task_group() as group:
        for _ in range(4):
            group.start_soon(issue)
    statuses = sorted(r.status_code for r in responses)
    # Exactly one issue; the others replay it or are told to retry, never a 500.
    assert statuses.count(201) == 1, statuses
    assert set(statuses) <= {200, 201, 409}, statuses
    assert len(await _client_ids(client, headers, org_id)) == 1
    assert sum("client_secret" in r.json() for r in responses) == 1
