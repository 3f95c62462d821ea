"""Consent travels on the feed ("given", "refused", "withdrawn" or null), a withdrawal is its own
``consent`` event, and the registry records no disclosure of a resident who refused or withdrew
consent (422, reason ``no_consent``), whoever asks and however often (issue 13)."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

import httpx
import pytest

from tests.registry.support import (
    feed,
    register,
    registry_client,
    registry_with_matching,
    resident,
)

pytestmark = pytest.mark.anyio

GIVEN = {"given": True, "purpose": "programme"}
REFUSED = {"given": False, "purpose": "programme"}


def _disclosure(placement: str) -> dict[str, Any]:
    return {
        "org_id": "org-provider",
        "purpose": "placement",
        "placement_id": placement,
        "valid_until": "2099-12-31",
    }


async def _consent(
    client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any], consent: Any
) -> dict[str, Any]:
    response = await client.patch(
        f"/v1/residents/{body['id']}",
        json={"consent": consent},
        headers={**headers, "If-Match": f'"{body["version"]}"'},
    )
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def _consents(changes: list[dict[str, Any]], resident_id: str) -> list[tuple[str, Any]]:
    return [(c["event"], c["payload"]["consent"]) for c in changes if c["entity_id"] == resident_id]


async def test_the_feed_carries_consent_and_a_withdrawal_is_an_event(  # type: ignore[no-untyped-def]
    keys, backend: str, databases
) -> None:
    agency = keys.headers("government_agency")
    service = keys.headers("service")
    async with registry_client(databases.new(backend, "registry"), keys) as client:
        giver = await register(client, agency, resident(1, consent=GIVEN))
        refuser = await register(client, agency, resident(2, consent=REFUSED))
        unknown = await register(client, agency, resident(3))
        withdrawn = await _consent(client, agency, giver, REFUSED)
        again = await _consent(client, agency, withdrawn, {**REFUSED, "purpose": "placement"})
        back = await _consent(client, agency, again, GIVEN)
        # A refusal that never followed consent stays a refusal, with other fields changed too.
        changed = await client.patch(
            f"/v1/residents/{refuser['id']}",
            json={"education_level": "primary", "consent": {**REFUSED, "purpose": "placement"}},
            headers={**agency, "If-Match": '"1"'},
        )
        assert changed.status_code == 200, changed.text
        assert back["version"] == 4

        changes = await feed(client, service, expected=8)
        assert _consents(changes, giver["id"]) == [
            ("created", "given"),
            ("consent", "withdrawn"),
            ("consent", "withdrawn"),
            ("consent", "given"),
        ]
        assert _consents(changes, refuser["id"]) == [("created", "refused"), ("updated", "refused")]
        assert _consents(changes, unknown["id"]) == [("created", None)]


async def test_an_import_that_takes_consent_back_publishes_a_withdrawal(  # type: ignore[no-untyped-def]
    keys, backend: str, databases
) -> None:
    agency = keys.headers("government_agency")
    service = keys.headers("service")
    body = resident(1, consent=GIVEN)
    columns = ["nik", "full_name", "sex", "birth_date", "village_code", "consent_given"]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns)
    writer.writeheader()
    writer.writerow({**{k: body[k] for k in columns[:5]}, "consent_given": "false"})
    async with registry_client(databases.new(backend, "registry"), keys) as client:
        giver = await register(client, agency, body)
        response = await client.post(
            "/v1/residents/import",
            files={"file": ("list.csv", out.getvalue().encode())},
            headers=agency,
        )
        assert response.status_code == 202, response.text
        job = (await client.get(response.headers["location"], headers=agency)).json()
        assert (job["status"], job["updated"]) == ("done", 1), job
        changes = await feed(client, service, expected=2)
        assert [c for _, c in _consents(changes, giver["id"])] == ["given", "withdrawn"]


async def test_no_disclosure_without_consent(keys, backend: str, databases) -> None:  # type: ignore[no-untyped-def]
    agency = keys.headers("government_agency")
    service = keys.headers("service")
    provider = keys.headers("company", org_id="org-provider")
    # Each resident accepted a placement of the provider in the real matching app: consent,
    # not the placement, is what refuses the disclosure.
    async with registry_with_matching(keys, backend, databases) as (client, matching):
        refuser = await register(client, agency, resident(1, consent=REFUSED))
        giver = await register(client, agency, resident(2, consent=GIVEN))
        unknown = await register(client, agency, resident(3))
        placed = {
            "p-1": matching.placement(refuser["id"], "org-provider"),
            "p-2": matching.placement(giver["id"], "org-provider"),
            "p-3": matching.placement(giver["id"], "org-provider"),
            "p-u": matching.placement(unknown["id"], "org-provider"),
        }

        refused = await client.post(
            f"/v1/residents/{refuser['id']}/disclosures",
            json=_disclosure(placed["p-1"]),
            headers=service,
        )
        assert refused.status_code == 422
        assert refused.headers["content-type"] == "application/problem+json"
        problem = refused.json()
        assert problem["reason"] == "no_consent"
        assert [e["loc"] for e in problem["errors"]] == [["path", "resident_id"]]
        assert refuser["nik"] not in refused.text and refuser["full_name"] not in refused.text
        assert (
            await client.get(f"/v1/residents/{refuser['id']}", headers=provider)
        ).status_code == 404

        # Consent given, or none recorded: the disclosure is recorded as before.
        for body, label in ((giver, "p-2"), (unknown, "p-u")):
            first = await client.post(
                f"/v1/residents/{body['id']}/disclosures",
                json=_disclosure(placed[label]),
                headers=service,
            )
            assert first.status_code == 201, first.text

        # Withdrawn after a disclosure: a retry of it, or a new one, is refused alike.
        await _consent(client, agency, giver, REFUSED)
        for placement in ("p-2", "p-3"):
            retry = await client.post(
                f"/v1/residents/{giver['id']}/disclosures",
                json=_disclosure(placed[placement]),
                headers=service,
            )
            assert retry.status_code == 422 and retry.json()["reason"] == "no_consent"


async def test_a_withdrawal_closes_the_providers_view(keys, backend: str, databases) -> None:  # type: ignore[no-untyped-def]
    """A disclosure already delivered gives a provider nothing once consent is withdrawn:
    not the resident, not its visits; consent given again reopens it."""
    agency = keys.headers("government_agency")
    service = keys.headers("service")
    provider = keys.headers("company", org_id="org-provider")
    async with registry_with_matching(keys, backend, databases) as (client, matching):
        giver = await register(client, agency, resident(1, consent=GIVEN))
        disclosed = await client.post(
            f"/v1/residents/{giver['id']}/disclosures",
            json=_disclosure(matching.placement(giver["id"], "org-provider")),
            headers=service,
        )
        assert disclosed.status_code == 201, disclosed.text
        paths = (f"/v1/residents/{giver['id']}", f"/v1/residents/{giver['id']}/follow-ups")
        for path in paths:
            assert (await client.get(path, headers=provider)).status_code == 200, path
        withdrawn = await _consent(client, agency, giver, REFUSED)
        unknown = await client.get(f"/v1/residents/{uuid.uuid4()}", headers=provider)
        for path in paths:
            closed = await client.get(path, headers=provider)
            assert (closed.status_code, closed.json()["detail"]) == (
                404,
                unknown.json()["detail"],
            ), path
            assert giver["nik"] not in closed.text
        await _consent(client, agency, withdrawn, GIVEN)
        reopened = await client.get(paths[0], headers=provider)
        assert reopened.status_code == 200 and reopened.json()["nik"] == giver["nik"]
