"""Forged and broken tokens, each refused with 401 and a problem body: at the gateway before
anything is forwarded, and by a service app itself (both use ``shared.kit.tokens``)."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from jose import jwt

from services.gateway.auth.keys import KeyRing
from services.registry.main import create_app as create_registry
from services.registry.settings import RegistrySettings
from shared.kit.tokens import generate_private_key_pem, issue_claims, key_id, public_key_pem, sign
from tests.gateway.support import (
    ADMIN,
    b64url,
    b64url_json,
    echo_service,
    gateway_settings,
    running_gateway,
    token,
    verifier_for,
)
from tests.support.databases import DatabaseFactory

pytestmark = pytest.mark.anyio


def _claims(org_id: str, **overrides: Any) -> dict[str, Any]:
    claims = issue_claims(
        issuer="sinergi-gateway",
        audience="sinergi",
        subject="client:forged",
        org_id=org_id,
        org_type="admin",
        region=None,
        scopes={"changes:read", "residents:read", "organisations:admin"},
        lifetime_seconds=900,
    )
    claims.update(overrides)
    return claims


def alg_none(keys: KeyRing, org: str) -> str:
    header = b64url_json({"alg": "none", "typ": "JWT", "kid": keys.kid})
    return f"{header}.{b64url_json(_claims(org))}."


def hs256_with_public_key(keys: KeyRing, org: str) -> str:
    # The classic algorithm confusion: the public key (which anyone can read from the JWKS)
    # used as an HMAC secret. Crafted by hand so no library refuses to build it.
    header = b64url_json({"alg": "HS256", "typ": "JWT", "kid": keys.kid})
    signing_input = f"{header}.{b64url_json(_claims(org))}"
    public_pem = keys.public_pems[keys.kid].encode()
    signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(signature)}"


def wrong_audience(keys: KeyRing, org: str) -> str:
    return sign(_claims(org, aud="another-system"), keys.private_pem, keys.kid)


def wrong_issuer(keys: KeyRing, org: str) -> str:
    return sign(_claims(org, iss="https://evil.example"), keys.private_pem, keys.kid)


def expired(keys: KeyRing, org: str) -> str:
    now = int(time.time())
    return sign(
        _claims(org, iat=now - 3600, nbf=now - 3600, exp=now - 2700), keys.private_pem, keys.kid
    )


def not_yet_valid(keys: KeyRing, org: str) -> str:
    now = int(time.time())
    return sign(_claims(org, nbf=now + 3600, exp=now + 7200), keys.private_pem, keys.kid)


def without_exp(keys: KeyRing, org: str) -> str:
    claims = _claims(org)
    del claims["exp"]
    return sign(claims, keys.private_pem, keys.kid)


def unknown_kid(keys: KeyRing, org: str) -> str:
    other = generate_private_key_pem()
    return sign(_claims(org), other, key_id(public_key_pem(other)))


def tampered_payload(keys: KeyRing, org: str) -> str:
    header, _payload, signature = sign(
        _claims(org, org_type="regional_agency", scope="reports:read"), keys.private_pem, keys.kid
    ).split(".")
    return f"{header}.{b64url_json(_claims(org))}.{signature}"


def oversized(keys: KeyRing, org: str) -> str:
    return sign(_claims(org, padding="x" * 9000), keys.private_pem, keys.kid)


ATTACKS: dict[str, Callable[[KeyRing, str], str]] = {
    "alg_none": alg_none,
    "hs256_signed_with_public_key": hs256_with_public_key,
    "wrong_aud": wrong_audience,
    "wrong_iss": wrong_issuer,
    "expired": expired,
    "nbf_in_future": not_yet_valid,
    "no_exp": without_exp,
    "unknown_kid": unknown_kid,
    "tampered_payload": tampered_payload,
    "over_8_kib": oversized,
}


@dataclass
class Targets:
    keys: KeyRing
    org: str
    valid: str
    service_token: str
    gateway: httpx.AsyncClient
    service: httpx.AsyncClient


# One gateway and one registry per backend for the whole module: the attacks only read.
@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
async def targets(
    request: pytest.FixtureRequest,
    databases: DatabaseFactory,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Targets]:
    backend = str(request.param)
    tmp_path = tmp_path_factory.mktemp("attacks")
    # The gateway's own app is built first, so the services can trust its keys.
    settings = gateway_settings(databases.new(backend, "gateway"), tmp_path / "var")
    async with running_gateway(settings) as (probe, _client):
        verifier = verifier_for(probe)
    upstream = echo_service(verifier, f"sqlite:///{tmp_path / 'echo.db'}")
    registry = create_registry(
        RegistrySettings(database_url=databases.new(backend, "registry"), jwks_url=""),
        verifier=verifier_for(probe),
    )
    async with running_gateway(settings, {"registry": upstream}) as (app, client):
        valid = await token(client, *ADMIN)
        service_token = await token(client, "matching-service", "dev-matching-secret")
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=registry), base_url="http://registry.test"
        ) as service:
            yield Targets(
                app.state.keys,
                jwt.get_unverified_claims(valid)["org"],
                valid,
                service_token,
                client,
                service,
            )
        registry.state.db.dispose()


def _assert_refused(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 401
    assert problem["type"] == "urn:sinergi:problem:unauthorized"


async def test_a_valid_token_passes_both(targets: Targets) -> None:
    headers = {"Authorization": f"Bearer {targets.valid}"}
    assert (await targets.gateway.get("/v1/residents/echo", headers=headers)).status_code == 200
    service = {"Authorization": f"Bearer {targets.service_token}"}
    assert (await targets.service.get("/v1/changes", headers=service)).status_code == 200


# The gateway checks a token before forwarding; a service checks it again on its own paths.
PATHS = {"gateway": "/v1/residents/echo", "service": "/v1/changes"}


@pytest.mark.parametrize("attack", list(ATTACKS))
@pytest.mark.parametrize("side", list(PATHS))
async def test_refuses(targets: Targets, side: str, attack: str) -> None:
    forged = ATTACKS[attack](targets.keys, targets.org)
    client = targets.gateway if side == "gateway" else targets.service
    response = await client.get(PATHS[side], headers={"Authorization": f"Bearer {forged}"})
    _assert_refused(response)
