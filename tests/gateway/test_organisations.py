"""/v1/organisations: create with region rules, idempotent retries, pagination, admin-only
access, and deactivation locking an organisation out within the status TTL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from services.gateway.main import create_app
from tests.gateway.support import (
    admin_headers,
    admin_on_gateway,
    gateway_client,
    gateway_settings,
    running_gateway,
    token,
    unique,
)

pytestmark = pytest.mark.anyio


async def _organisation_and_client(
    admin: httpx.AsyncClient, headers: dict[str, str], name: str, org_type: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    body = {"name": unique(name), "type": org_type}
    org = (await admin.post("/v1/organisations", json=body, headers=headers)).json()
    issued = (await admin.post(f"/v1/organisations/{org['id']}/clients", headers=headers)).json()
    return org, issued


async def test_create_get_and_retry(gateway_db: str, data_dir: Path) -> None:
    async with admin_on_gateway(gateway_db, data_dir) as (client, headers):
        name = unique("Desa Tarjun")
        body = {
            "name": name.replace(" ", "  ", 1),  # whitespace is normalised
            "type": "village_government",
            "region_code": "63.02.17.2002",
        }
        created = await client.post("/v1/organisations", json=body, headers=headers)
        assert created.status_code == 201
        org = created.json()
        assert org["name"] == name
        assert org["active"] is True
        assert created.headers["location"] == f"/v1/organisations/{org['id']}"
        retried = await client.post("/v1/organisations", json=body, headers=headers)
        assert retried.status_code == 200
        assert retried.json()["id"] == org["id"]
        clash = await client.post(
            "/v1/organisations", json={"name": name, "type": "ngo"}, headers=headers
        )
        assert clash.status_code == 409
        assert clash.headers["content-type"] == "application/problem+json"
        got = await client.get(f"/v1/organisations/{org['id']}", headers=headers)
        assert got.json() == org
        missing = await client.get("/v1/organisations/no-such-org", headers=headers)
        assert missing.status_code == 404


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ({"name": "Desa X", "type": "village_government"}, "must name"),
        ({"name": "Desa X", "type": "village_government", "region_code": "63.02.17"}, "village"),
        ({"name": "Kec X", "type": "district_government", "region_code": "63.02.99"}, "district"),
        ({"name": "PT X", "type": "company", "region_code": "63.02.17"}, "only village"),
    ],
)
async def test_region_rules_name_the_field(
    gateway_db: str, data_dir: Path, body: dict[str, str], why: str
) -> None:
    async with running_gateway(gateway_settings(gateway_db, data_dir)) as (_app, client):
        response = await client.post(
            "/v1/organisations", json=body, headers=await admin_headers(client)
        )
        assert response.status_code == 422
        problem = response.json()
        assert problem["errors"][0]["loc"] == ["body", "region_code"]
        assert why in problem["errors"][0]["msg"]


async def test_unknown_type_is_422_naming_the_field(gateway_db: str, data_dir: Path) -> None:
    async with running_gateway(gateway_settings(gateway_db, data_dir)) as (_app, client):
        response = await client.post(
            "/v1/organisations",
            json={"name": "Somebody", "type": "bank"},
            headers=await admin_headers(client),
        )
        assert response.status_code == 422
        assert any(e["loc"][-1] == "type" for e in response.json()["errors"])


async def test_list_pages_with_cursor(fresh_gateway_db: str, data_dir: Path) -> None:
    async with running_gateway(gateway_settings(fresh_gateway_db, data_dir)) as (_app, client):
        headers = await admin_headers(client)
        for i in range(5):
            response = await client.post(
                "/v1/organisations", json={"name": f"NGO {i}", "type": "ngo"}, headers=headers
            )
            assert response.status_code == 201
        seen: list[str] = []
        cursor = None
        while True:
            params = {"limit": "2", "type": "ngo"} | ({"cursor": cursor} if cursor else {})
            page = (await client.get("/v1/organisations", params=params, headers=headers)).json()
            seen += [o["name"] for o in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert sorted(seen) == [f"NGO {i}" for i in range(5)]
        everything = (await client.get("/v1/organisations", headers=headers)).json()["items"]
        # Bootstrap made the admin and the two internal service organisations.
        assert {o["type"] for o in everything} == {"admin", "service", "ngo"}
        bad = await client.get("/v1/organisations", params={"cursor": "@@"}, headers=headers)
        assert bad.status_code == 422


async def test_only_the_admin_manages_organisations(gateway_db: str, data_dir: Path) -> None:
    async with running_gateway(gateway_settings(gateway_db, data_dir)) as (_app, client):
        anonymous = await client.get("/v1/organisations")
        assert anonymous.status_code == 401
        assert anonymous.headers["content-type"] == "application/problem+json"
        service = await token(client, "matching-service", "dev-matching-secret")
        forbidden = await client.get(
            "/v1/organisations", headers={"Authorization": f"Bearer {service}"}
        )
        assert forbidden.status_code == 403


async def test_deactivated_organisation_is_locked_out(gateway_db: str, data_dir: Path) -> None:
    async with admin_on_gateway(gateway_db, data_dir) as (client, headers):
        org, issued = await _organisation_and_client(
            client, headers, "Dinas Sosial", "government_agency"
        )
        agency_token = await token(client, issued["client_id"], issued["client_secret"])
        agency = {"Authorization": f"Bearer {agency_token}"}
        # Accepted (403: a valid token without the admin scope) before deactivation...
        assert (await client.get("/v1/organisations", headers=agency)).status_code == 403
        deactivated = await client.post(
            f"/v1/organisations/{org['id']}/deactivate", headers=headers
        )
        assert deactivated.status_code == 200
        assert deactivated.json()["active"] is False
        # ...and refused right after on this gateway process, although the token is unexpired.
        refused = await client.get("/v1/residents", headers=agency)
        assert refused.status_code == 401
        assert refused.json()["detail"] == "the organisation is deactivated"
        no_token = await client.post(
            "/v1/auth/token",
            data={"grant_type": "client_credentials"},
            auth=(issued["client_id"], issued["client_secret"]),
        )
        assert no_token.status_code == 401
        new_client = await client.post(f"/v1/organisations/{org['id']}/clients", headers=headers)
        assert new_client.status_code == 409


async def test_deactivation_reaches_another_gateway_process_within_the_ttl(
    gateway_db: str, data_dir: Path
) -> None:
    """Two gateways over one database, the second with a TTL of 0 (the longest allowed is
    30 s): a deactivation made through the first is honoured by the second on its next
    request, without waiting."""
    async with running_gateway(gateway_settings(gateway_db, data_dir)) as (_first, admin):
        headers = await admin_headers(admin)
        org, issued = await _organisation_and_client(admin, headers, "BUMDes Tarjun", "bumdes")
        other_app = create_app(
            gateway_settings(gateway_db, data_dir, org_status_ttl_seconds=0),
            configure_logs=False,
        )
        try:
            async with gateway_client(other_app) as other:
                bumdes = {
                    "Authorization": "Bearer "
                    + await token(other, issued["client_id"], issued["client_secret"])
                }
                assert (await other.get("/v1/organisations", headers=bumdes)).status_code == 403
                await admin.post(f"/v1/organisations/{org['id']}/deactivate", headers=headers)
                refused = await other.get("/v1/organisations", headers=bumdes)
                assert refused.status_code == 401
        finally:
            await other_app.state.aclose()
            other_app.state.db.dispose()


def test_status_ttl_over_30_seconds_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="GATEWAY_ORG_STATUS_TTL_SECONDS"):
        gateway_settings("sqlite:///unused.db", tmp_path, org_status_ttl_seconds=31)


@pytest.mark.parametrize("org_type", ["service", "admin"])
async def test_service_and_admin_organisations_come_from_configuration_only(
    gateway_db: str, data_dir: Path, org_type: str
) -> None:
    async with admin_on_gateway(gateway_db, data_dir) as (client, headers):
        name = unique("Shadow")
        response = await client.post(
            "/v1/organisations", json={"name": name, "type": org_type}, headers=headers
        )
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"][0]["loc"] == ["body", "type"]
        listed = await client.get("/v1/organisations", params={"type": org_type}, headers=headers)
        assert name not in {o["name"] for o in listed.json()["items"]}


async def _granted(client: httpx.AsyncClient, client_id: str, secret: str, **form: str) -> Any:
    return await client.post(
        "/v1/auth/token",
        data={"grant_type": "client_credentials"} | form,
        auth=(client_id, secret),
    )


async def test_service_clients_hold_only_their_own_scopes(gateway_db: str, data_dir: Path) -> None:
    stray = unique("stray-service").replace(" ", "-")
    clients = {
        "matching-service": "dev-matching-secret",
        "reporting-service": "dev-reporting-secret",
        stray: "dev-stray-secret",
    }
    settings = gateway_settings(gateway_db, data_dir, service_clients=clients)
    async with running_gateway(settings) as (_app, client):
        matching = await _granted(client, "matching-service", "dev-matching-secret")
        assert set(matching.json()["scope"].split()) == {"changes:read", "residents:disclose"}
        reporting = await _granted(client, "reporting-service", "dev-reporting-secret")
        assert reporting.json()["scope"].split() == ["changes:read"]
        widened = await _granted(
            client, "reporting-service", "dev-reporting-secret", scope="residents:disclose"
        )
        assert widened.status_code == 400 and widened.json()["error"] == "invalid_scope"
        # A configured client the table does not name is a service organisation with no scope.
        assert (await _granted(client, stray, "dev-stray-secret")).json()["scope"] == ""
        # So is a second credential the admin issues for matching's organisation.
        headers = await admin_headers(client)
        services = await client.get(
            "/v1/organisations", params={"type": "service", "limit": "200"}, headers=headers
        )
        org = next(o for o in services.json()["items"] if o["name"] == "matching-service")
        issued = await client.post(f"/v1/organisations/{org['id']}/clients", headers=headers)
        assert issued.status_code == 201, issued.text
        body = issued.json()
        extra = await _granted(client, body["client_id"], body["client_secret"])
        assert extra.status_code == 200 and extra.json()["scope"] == ""
        asked = await _granted(
            client, body["client_id"], body["client_secret"], scope="residents:disclose"
        )
        assert asked.status_code == 400 and asked.json()["error"] == "invalid_scope"
