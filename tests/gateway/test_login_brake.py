"""The brute-force brake on POST /v1/auth/token: 429, Retry-After and an RFC 6749-style body,
even with the right secret, per (address, identity), per identity for the addresses that
failed, per address for unknown names only; failures of one party never refuse another's
correct credentials (issue 13, item 4); successes never count; in memory and Redis."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.gateway.settings import GatewaySettings
from tests.gateway.support import ADMIN, admin_headers, gateway_settings, running_gateway, unique

pytestmark = pytest.mark.anyio
REDIS_URL = "redis://127.0.0.1:6379/0"
STORAGES = ["memory", "redis"]


def _settings(gateway_db: str, data_dir: Path, storage: str, **overrides: Any) -> GatewaySettings:
    return gateway_settings(
        gateway_db,
        data_dir,
        redis_url=REDIS_URL if storage == "redis" else "",
        # A fresh key space per test, so repeated or parallel runs never share budgets.
        redis_key_prefix=f"sinergi-test-{uuid.uuid4().hex}",
        **overrides,
    )


@dataclass
class Brake:
    """The brake under test on one of its storages: ``settings`` sets its limits."""

    gateway_db: str
    data_dir: Path
    storage: str

    def settings(self, **limits: Any) -> GatewaySettings:
        return _settings(self.gateway_db, self.data_dir, self.storage, **limits)


@pytest.fixture(params=STORAGES)
def brake(request: pytest.FixtureRequest, gateway_db: str, data_dir: Path) -> Brake:
    return Brake(gateway_db, data_dir, request.param)


async def _client_login(client: httpx.AsyncClient, client_id: str, secret: str) -> httpx.Response:
    return await client.post(
        "/v1/auth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )


async def _user_login(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post(
        "/v1/auth/token",
        data={"grant_type": "password", "username": username, "password": password},
    )


def _assert_braked(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    assert response.json()["error"] == "slow_down"
    assert response.headers["cache-control"] == "no-store"
    assert int(response.headers["retry-after"]) >= 1


async def test_client_braked_after_failures_even_with_right_secret(brake: Brake) -> None:
    settings = brake.settings(login_failure_limit="3/minute")
    async with running_gateway(settings) as (app, client):
        if brake.storage == "redis":
            assert await app.state.login_brake.storage.check()
        # Successes are never counted: more of them than the limit change nothing.
        for _ in range(4):
            assert (await _client_login(client, *ADMIN)).status_code == 200
        for _ in range(3):
            assert (await _client_login(client, ADMIN[0], "wrong")).status_code == 401
        _assert_braked(await _client_login(client, ADMIN[0], "wrong"))
        # The right secret is refused too while braked, else guessing would just go on.
        _assert_braked(await _client_login(client, *ADMIN))
        # Another client is not affected by this one's failures.
        other = await _client_login(client, "matching-service", "dev-matching-secret")
        assert other.status_code == 200


async def test_username_braked_case_insensitively(brake: Brake) -> None:
    settings = brake.settings(login_failure_limit="2/minute")
    async with running_gateway(settings) as (_app, client):
        headers = await admin_headers(client)
        org = await client.post(
            "/v1/organisations",
            json={"name": unique("PT Brake"), "type": "company"},
            headers=headers,
        )
        username = f"op.{uuid.uuid4().hex[:8]}"
        password = "a long passphrase"
        added = await client.post(
            f"/v1/organisations/{org.json()['id']}/users",
            json={"username": username, "password": password},
            headers=headers,
        )
        assert added.status_code == 201, added.text
        assert (await _user_login(client, username, password)).status_code == 200
        assert (await _user_login(client, username, "wrong guess 1")).json()["error"] == (
            "invalid_grant"
        )
        assert (await _user_login(client, username.upper(), "wrong guess 2")).status_code == 400
        _assert_braked(await _user_login(client, username, password))


def _from(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


async def _login_from(
    client: httpx.AsyncClient, address: str, client_id: str, secret: str
) -> httpx.Response:
    return await client.post(
        "/v1/auth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
        headers=_from(address),
    )


# The in-process client connects from 127.0.0.1: trusting it stands for the ingress.
BEHIND_INGRESS = {"trusted_proxies": ["127.0.0.1"]}


async def test_guessed_names_brake_the_address_for_unknown_names_only(brake: Brake) -> None:
    settings = brake.settings(
        login_failure_limit="100/minute",
        login_failure_limit_per_address="3/minute",
        **BEHIND_INGRESS,
    )
    async with running_gateway(settings) as (_app, client):
        for n in range(3):
            response = await client.post(
                "/v1/auth/token",
                data={
                    "grant_type": "password",
                    "username": f"guess.{n}.{uuid.uuid4().hex[:6]}",
                    "password": "password!!",
                },
                headers=_from("203.0.113.9"),
            )
            assert response.status_code == 400
        _assert_braked(await _login_from(client, "203.0.113.9", f"sc_{uuid.uuid4().hex}", "x"))
        # Another party at the same address (the ingress, a carrier NAT) is not refused.
        assert (await _login_from(client, "203.0.113.9", *ADMIN)).status_code == 200
        # Nor is the next address guessing a name.
        other = await _login_from(client, "198.51.100.7", f"sc_{uuid.uuid4().hex}", "x")
        assert other.status_code == 401


async def test_one_address_failing_never_refuses_the_owner_elsewhere(brake: Brake) -> None:
    settings = brake.settings(
        login_failure_limit="3/minute",
        login_failure_limit_per_address_identity="2/minute",
        **BEHIND_INGRESS,
    )
    owner = ("matching-service", "dev-matching-secret")
    async with running_gateway(settings) as (_app, client):
        for _ in range(2):
            assert (await _login_from(client, "203.0.113.9", owner[0], "wrong")).status_code == 401
        # The failing address is braked for this identity, the right secret included...
        _assert_braked(await _login_from(client, "203.0.113.9", *owner))
        # ...the owner at its own address is not.
        assert (await _login_from(client, "192.0.2.10", *owner)).status_code == 200
        # Many addresses exhaust the identity's budget: those that failed are refused, an
        # address that did not fail still gets in with the right secret.
        assert (await _login_from(client, "203.0.113.77", owner[0], "wrong")).status_code == 401
        _assert_braked(await _login_from(client, "203.0.113.77", *owner))
        assert (await _login_from(client, "192.0.2.10", *owner)).status_code == 200


async def test_forwarded_for_from_an_untrusted_peer_is_ignored(
    gateway_db: str, data_dir: Path
) -> None:
    settings = _settings(
        gateway_db, data_dir, "memory", login_failure_limit_per_address_identity="2/minute"
    )
    async with running_gateway(settings) as (_app, client):
        for n in range(2):
            response = await _login_from(client, f"203.0.113.{n}", "reporting-service", "wrong")
            assert response.status_code == 401
        # A caller cannot pose as a fresh address: no proxy is trusted, the peer counts.
        _assert_braked(await _login_from(client, "203.0.113.200", "reporting-service", "x"))


def test_trusted_proxies_must_be_addresses(gateway_db: str, data_dir: Path) -> None:
    with pytest.raises(ValueError, match="trusted_proxies"):
        gateway_settings(gateway_db, data_dir, trusted_proxies="10.0.0.0/8,ingress")
    parsed = gateway_settings(gateway_db, data_dir, trusted_proxies="10.0.0.0/8, 192.0.2.1")
    assert parsed.trusted_proxies == ["10.0.0.0/8", "192.0.2.1/32"]


async def test_malformed_requests_are_not_counted(gateway_db: str, data_dir: Path) -> None:
    settings = _settings(gateway_db, data_dir, "memory", login_failure_limit="1/minute")
    async with running_gateway(settings) as (_app, client):
        for _ in range(3):
            missing = await client.post(
                "/v1/auth/token", data={"grant_type": "client_credentials", "client_id": ADMIN[0]}
            )
            assert missing.status_code == 401
        assert (await _client_login(client, *ADMIN)).status_code == 200


def test_bad_limit_notation_is_refused(gateway_db: str, data_dir: Path) -> None:
    with pytest.raises(ValueError, match="login_failure_limit"):
        gateway_settings(gateway_db, data_dir, login_failure_limit="ten per minute")
