"""Bootstrap at start creates the admin and service clients when missing and never revives
what the API revoked, deactivated or rotated (issue 13, item 9): a restart keeps every cut."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from jose import jwt

from services.gateway.settings import GatewaySettings
from tests.gateway.support import ADMIN, admin_headers, gateway_settings, running_gateway, token

pytestmark = pytest.mark.anyio
MATCHING = ("matching-service", "dev-matching-secret")
REPORTING = ("reporting-service", "dev-reporting-secret")


@pytest.fixture
def settings(fresh_gateway_db: str, data_dir: Path) -> GatewaySettings:
    """Every test here starts the gateway more than once with this very configuration."""
    return gateway_settings(fresh_gateway_db, data_dir)


async def _client_login(client: httpx.AsyncClient, client_id: str, secret: str) -> int:
    response = await client.post(
        "/v1/auth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    return response.status_code


async def _org_of(client: httpx.AsyncClient, client_id: str, secret: str) -> str:
    org: str = jwt.get_unverified_claims(await token(client, client_id, secret))["org"]
    return org


async def _as_admin_on_client(
    client: httpx.AsyncClient, credentials: tuple[str, str], action: str
) -> tuple[str, dict[str, Any]]:
    """As the admin, revoke or rotate a bootstrap client: its organisation and the answer."""
    headers = await admin_headers(client)
    org = await _org_of(client, *credentials)
    response = await client.post(
        f"/v1/organisations/{org}/clients/{credentials[0]}/{action}", headers=headers
    )
    assert response.status_code == 200, response.text
    return org, response.json()


async def test_revoked_and_deactivated_bootstrap_clients_stay_so_after_a_restart(
    settings: GatewaySettings,
) -> None:
    async with running_gateway(settings) as (_app, client):
        matching_org, _ = await _as_admin_on_client(client, MATCHING, "revoke")
        headers = await admin_headers(client)
        reporting_org = await _org_of(client, *REPORTING)
        deactivated = await client.post(
            f"/v1/organisations/{reporting_org}/deactivate", headers=headers
        )
        assert deactivated.status_code == 200, deactivated.text

    # A pod start with the very same configuration.
    async with running_gateway(settings) as (_app, client):
        assert await _client_login(client, *MATCHING) == 401
        assert await _client_login(client, *REPORTING) == 401
        headers = await admin_headers(client)
        listed = await client.get(f"/v1/organisations/{matching_org}/clients", headers=headers)
        assert [c["revoked_at"] is not None for c in listed.json()] == [True]
        reporting = await client.get(f"/v1/organisations/{reporting_org}", headers=headers)
        assert reporting.json()["active"] is False


async def test_a_secret_rotated_through_the_api_outlasts_a_restart(
    settings: GatewaySettings,
) -> None:
    async with running_gateway(settings) as (_app, client):
        _, rotated = await _as_admin_on_client(client, ADMIN, "rotate")
        new_secret = rotated["client_secret"]

    # The configuration still holds the old (perhaps leaked) secret: it must stay dead.
    async with running_gateway(settings) as (_app, client):
        assert await _client_login(client, *ADMIN) == 401
        assert await _client_login(client, ADMIN[0], new_secret) == 200


async def test_a_revoked_admin_is_replaced_under_a_new_client_id(
    fresh_gateway_db: str, data_dir: Path, settings: GatewaySettings
) -> None:
    async with running_gateway(settings) as (_app, client):
        admin_org, _ = await _as_admin_on_client(client, ADMIN, "revoke")

    # The documented way back: a new admin client id and secret in the configuration.
    replaced = gateway_settings(
        fresh_gateway_db,
        data_dir,
        admin_client_id="sinergi-admin-2",
        admin_client_secret="a-new-long-admin-secret",
    )
    async with running_gateway(replaced) as (_app, client):
        assert await _client_login(client, *ADMIN) == 401
        assert await _org_of(client, "sinergi-admin-2", "a-new-long-admin-secret") == admin_org
