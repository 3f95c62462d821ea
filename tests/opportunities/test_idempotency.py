"""Idempotency-Key on POST /v1/opportunities: a retry replays the first response, another body
under the same key is refused, and parallel duplicates create one opportunity."""

from __future__ import annotations

import anyio
import httpx
import pytest
from sqlalchemy import func, select

from services.opportunities.catalogue.models import Opportunity
from tests.opportunities.conftest import Api, error_fields, internship

pytestmark = pytest.mark.anyio


def _count(api: Api) -> int:
    with api.db.session(write=False) as session:
        return int(session.scalar(select(func.count()).select_from(Opportunity)) or 0)


async def test_same_key_same_body_replays_the_first_response(api: Api) -> None:
    headers = {**api.as_("company", org_id="org-semen"), "Idempotency-Key": "hr-push-0001"}
    body = internship()
    first = await api.client.post("/v1/opportunities", json=body, headers=headers)
    assert first.status_code == 201, first.text
    # Another token of the same organisation, the keys reordered: still the same request.
    retry_headers = {**api.as_("company", org_id="org-semen"), "Idempotency-Key": "hr-push-0001"}
    retry = await api.client.post(
        "/v1/opportunities", json=dict(reversed(list(body.items()))), headers=retry_headers
    )
    assert retry.status_code == 201
    assert retry.json() == first.json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.headers["ETag"] == first.headers["ETag"]
    assert _count(api) == 1
    assert [c["event"] for c in await api.changes()] == ["created"]


async def test_same_key_other_body_is_422(api: Api) -> None:
    headers = {**api.as_("company", org_id="org-semen"), "Idempotency-Key": "hr-push-0002"}
    first = await api.client.post("/v1/opportunities", json=internship(), headers=headers)
    assert first.status_code == 201
    other = await api.client.post("/v1/opportunities", json=internship(slots=3), headers=headers)
    assert other.status_code == 422
    assert error_fields(other) == {"Idempotency-Key"}
    assert _count(api) == 1


async def test_keys_are_per_organisation_optional_and_bounded(api: Api) -> None:
    body = internship()
    for org in ("org-semen", "org-sawit"):
        headers = {**api.as_("company", org_id=org), "Idempotency-Key": "shared-key"}
        response = await api.client.post("/v1/opportunities", json=body, headers=headers)
        assert response.status_code == 201
        assert response.json()["provider_org_id"] == org
    assert _count(api) == 2

    # A request that fails does not use up its key.
    headers = {**api.as_("company", org_id="org-semen"), "Idempotency-Key": "hr-push-0003"}
    bad = await api.client.post("/v1/opportunities", json=internship(min_age=12), headers=headers)
    assert bad.status_code == 422
    fixed = await api.client.post("/v1/opportunities", json=body, headers=headers)
    assert fixed.status_code == 201
    assert _count(api) == 3

    # Without a key, each POST is a new opportunity.
    plain = api.as_("company", org_id="org-semen")
    for _ in range(2):
        response = await api.client.post("/v1/opportunities", json=body, headers=plain)
        assert response.status_code == 201
    assert _count(api) == 5

    too_long = {**plain, "Idempotency-Key": "k" * 256}
    response = await api.client.post("/v1/opportunities", json=body, headers=too_long)
    assert response.status_code == 422
    assert error_fields(response) == {"Idempotency-Key"}
    assert _count(api) == 5


async def test_fifty_parallel_duplicates_create_one_row(api: Api) -> None:
    headers = {**api.as_("company", org_id="org-semen"), "Idempotency-Key": "storm-1"}
    body = internship(title="Magang mekanik alat berat")
    responses: list[httpx.Response] = []

    async def push() -> None:
        responses.append(await api.client.post("/v1/opportunities", json=body, headers=headers))

    # The app runs each request's database work in its own worker thread: these race for real.
    async with anyio.create_task_group() as group:
        for _ in range(50):
            group.start_soon(push)

    assert [r.status_code for r in responses] == [201] * 50, {r.text for r in responses}
    assert len({r.json()["id"] for r in responses}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in responses) == 49
    assert _count(api) == 1
    assert [c["event"] for c in await api.changes()] == ["created"]
