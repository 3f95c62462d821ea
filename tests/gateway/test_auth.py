"""POST /v1/auth/token: both grants, RFC 6749 errors, revoked and rotated clients, claims as
docs/contracts.md, the JWKS, and key rotation."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from jose import jwt

from services.gateway.auth.keys import GENERATED_KEY_NAME
from shared.kit.tokens import generate_private_key_pem, public_key_pem
from shared.programme.scopes import default_scopes
from tests.gateway.support import (
    ADMIN,
    Company,
    admin_headers,
    admin_on_gateway,
    gateway_settings,
    new_client,
    new_organisation,
    running_gateway,
    token,
    unique,
)

pytestmark = pytest.mark.anyio


async def test_client_credentials_in_body_and_claims(gateway_db: str, data_dir: Path) -> None:
    async with running_gateway(gateway_settings(gateway_db, data_dir)) as (app, client):
        headers = await admin_headers(client)
        org = await new_organisation(
            client, headers, "Desa Tarjun", type="village_government", region_code="63.02.17.2002"
        )
        issued = await new_client(client, headers, org["id"])
        response = await client.post(
            "/v1/auth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": issued["client_id"],
                "client_secret": issued["client_secret"],
            },
        )
        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-store"
        body = response.json()
        assert body["token_type"] == "bearer"
        assert body["expires_in"] == 900
        assert "refresh_token" not in body
        assert set(body["scope"].split()) == default_scopes("village_government")
        claims = jwt.get_unverified_claims(body["access_token"])
        assert set(claims) == {
            "iss", "aud", "sub", "org", "org_type", "region", "scope", "iat", "nbf", "exp", "jti"
        }  # fmt: skip
        assert claims["iss"] == "sinergi-gateway"
        assert claims["aud"] == "sinergi"
        assert claims["sub"] == f"client:{issued['client_id']}"
        assert claims["org"] == org["id"]
        assert claims["org_type"] == "village_government"
        assert claims["region"] == "63.02.17.2002"
        assert claims["exp"] - claims["iat"] == 900
        header = jwt.get_unverified_header(body["access_token"])
        assert header["alg"] == "RS256"
        jwks = (await client.get("/v1/auth/jwks.json")).json()
        assert header["kid"] in {key["kid"] for key in jwks["keys"]}
        principal = await app.state.verifier.verify(body["access_token"])
        assert principal.region == "63.02.17.2002"


async def test_client_credentials_with_http_basic(gateway_db: str, data_dir: Path) -> None:
    async with running_gateway(gateway_settings(gateway_db, data_dir)) as (_app, client):
        response = await client.post(
            "/v1/auth/token", data={"grant_type": "client_credentials"}, auth=ADMIN
        )
        assert response.status_code == 200, response.text
        claims = jwt.get_unverified_claims(response.json()["access_token"])
        assert claims["org_type"] == "admin"
        assert claims["region"] is None


async def test_wrong_secret_and_unknown_client_are_invalid_client(
    gateway_db: str, data_dir: Path
) -> None:
    async with running_gateway(gateway_settings(gateway_db, data_dir)) as (_app, client):
        wrong = await client.post(
            "/v1/auth/token",
            data={"grant_type": "client_credentials", "client_id": ADMIN[0], "client_secret": "x"},
        )
        assert wrong.status_code == 401
        assert wrong.json()["error"] == "invalid_client"
        basic = await client.post(
            "/v1/auth/token", data={"grant_type": "client_credentials"}, auth=("nobody", "x")
        )
        assert basic.status_code == 401
        assert basic.json()["error"] == "invalid_client"
        assert basic.headers["www-authenticate"].startswith("Basic")


async def test_grant_type_errors(gateway_db: str, data_dir: Path) -> None:
    async with running_gateway(gateway_settings(gateway_db, data_dir)) as (_app, client):
        unsupported = await client.post("/v1/auth/token", data={"grant_type": "implicit"})
        assert unsupported.status_code == 400
        assert unsupported.json()["error"] == "unsupported_grant_type"
        missing = await client.post("/v1/auth/token", data={})
        assert missing.status_code == 400
        assert missing.json()["error"] == "invalid_request"
        twice = await client.post(
            "/v1/auth/token",
            data={"grant_type": "client_credentials", "client_id": ADMIN[0]},
            auth=ADMIN,
        )
        assert twice.status_code == 400
        assert twice.json()["error"] == "invalid_request"


async def test_scope_is_narrowed_and_never_widened(gateway_db: str, data_dir: Path) -> None:
    async with running_gateway(gateway_settings(gateway_db, data_dir)) as (_app, client):
        narrowed = await client.post(
            "/v1/auth/token",
            data={"grant_type": "client_credentials", "scope": "reports:read"},
            auth=ADMIN,
        )
        assert narrowed.status_code == 200
        assert narrowed.json()["scope"] == "reports:read"
        service_token = await client.post(
            "/v1/auth/token",
            data={"grant_type": "client_credentials", "scope": "organisations:admin"},
            auth=("matching-service", "dev-matching-secret"),
        )
        assert service_token.status_code == 400
        assert service_token.json()["error"] == "invalid_scope"


async def test_revoked_client_gets_no_token(company: Company) -> None:
    client, headers, org_id = company.client, company.headers, company.org_id
    issued = await new_client(client, headers, org_id)
    await token(client, issued["client_id"], issued["client_secret"])
    revoked = await client.post(
        f"/v1/organisations/{org_id}/clients/{issued['client_id']}/revoke",
        headers=headers,
    )
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    again = await client.post(
        f"/v1/organisations/{org_id}/clients/{issued['client_id']}/revoke",
        headers=headers,
    )
    assert again.json()["revoked_at"] == revoked.json()["revoked_at"]
    refused = await client.post(
        "/v1/auth/token",
        data={"grant_type": "client_credentials"},
        auth=(issued["client_id"], issued["client_secret"]),
    )
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_client"


async def test_several_clients_and_rotation(company: Company) -> None:
    client, headers, org_id = company.client, company.headers, company.org_id
    first = await new_client(client, headers, org_id)
    second = await new_client(client, headers, org_id)
    listed = await client.get(f"/v1/organisations/{org_id}/clients", headers=headers)
    assert {c["client_id"] for c in listed.json()} == {first["client_id"], second["client_id"]}
    assert all("client_secret" not in c and "secret_hash" not in c for c in listed.json())
    rotated = await client.post(
        f"/v1/organisations/{org_id}/clients/{first['client_id']}/rotate", headers=headers
    )
    assert rotated.status_code == 200
    new_secret = rotated.json()["client_secret"]
    assert new_secret != first["client_secret"]
    old = await client.post(
        "/v1/auth/token",
        data={"grant_type": "client_credentials"},
        auth=(first["client_id"], first["client_secret"]),
    )
    assert old.status_code == 401
    await token(client, first["client_id"], new_secret)
    await token(client, second["client_id"], second["client_secret"])


async def test_staff_user_password_grant(gateway_db: str, data_dir: Path) -> None:
    async with admin_on_gateway(gateway_db, data_dir) as (client, headers):
        username = unique("siti.operator").replace(" ", "-")
        org = await new_organisation(
            client, headers, "Kecamatan Kelumpang Hilir", type="district_government",
            region_code="63.02.17",
        )  # fmt: skip
        added = await client.post(
            f"/v1/organisations/{org['id']}/users",
            json={"username": username.title(), "password": "correct horse battery"},
            headers=headers,
        )
        assert added.status_code == 201, added.text
        assert "password" not in added.text
        user = added.json()
        good = await client.post(
            "/v1/auth/token",
            data={
                "grant_type": "password",
                "username": username,
                "password": "correct horse battery",
            },
        )
        assert good.status_code == 200, good.text
        claims = jwt.get_unverified_claims(good.json()["access_token"])
        assert claims["sub"] == f"user:{user['id']}"
        assert claims["org"] == org["id"]
        assert claims["region"] == "63.02.17"
        bad = await client.post(
            "/v1/auth/token",
            data={"grant_type": "password", "username": username, "password": "wrong one!"},
        )
        assert bad.status_code == 400
        assert bad.json()["error"] == "invalid_grant"
        unknown = await client.post(
            "/v1/auth/token",
            data={"grant_type": "password", "username": "nobody", "password": "whatever!!"},
        )
        assert unknown.status_code == 400
        assert unknown.json()["error"] == "invalid_grant"
        listed = await client.get(f"/v1/organisations/{org['id']}/users", headers=headers)
        assert [u["username"] for u in listed.json()["items"]] == [username]
        taken = await client.post(
            f"/v1/organisations/{org['id']}/users",
            json={"username": username, "password": "another password"},
            headers=headers,
        )
        assert taken.status_code == 409


async def test_generated_key_is_kept_and_rotated_keys_stay_valid(
    gateway_db: str, data_dir: Path, tmp_path: Path
) -> None:
    async with running_gateway(gateway_settings(gateway_db, data_dir)) as (_app, client):
        old_token = await token(client, *ADMIN)
    generated = data_dir / "keys" / GENERATED_KEY_NAME
    assert generated.exists()
    assert generated.stat().st_mode & 0o077 == 0
    async with running_gateway(gateway_settings(gateway_db, data_dir)) as (app, _client):
        # Same data dir, same key: tokens survive a restart.
        assert (await app.state.verifier.verify(old_token)).org_type == "admin"

    new_key = tmp_path / "new.pem"
    new_key.write_text(generate_private_key_pem())
    old_public = tmp_path / "old.pub.pem"
    old_public.write_text(public_key_pem(generated.read_text()))
    rotated = gateway_settings(
        gateway_db,
        data_dir,
        signing_key_file=str(new_key),
        verification_key_files=str(old_public),
    )
    async with running_gateway(rotated) as (app, client):
        jwks = (await client.get("/v1/auth/jwks.json")).json()
        assert len(jwks["keys"]) == 2
        assert (await app.state.verifier.verify(old_token)).org_type == "admin"
        new_token = await token(client, *ADMIN)
        assert (
            jwt.get_unverified_header(new_token)["kid"]
            != jwt.get_unverified_header(old_token)["kid"]
        )
        response = await client.get(
            "/v1/organisations", headers={"Authorization": f"Bearer {old_token}"}
        )
        assert response.status_code == 200


async def test_basic_credentials_are_form_decoded(gateway_db: str, data_dir: Path) -> None:
    async with running_gateway(gateway_settings(gateway_db, data_dir)) as (_app, client):
        raw = base64.b64encode(f"{ADMIN[0]}:{ADMIN[1]}".encode()).decode()
        response = await client.post(
            "/v1/auth/token",
            data={"grant_type": "client_credentials"},
            headers={"Authorization": f"Basic {raw}"},
        )
        assert response.status_code == 200
        malformed = await client.post(
            "/v1/auth/token",
            data={"grant_type": "client_credentials"},
            headers={"Authorization": "Basic !!!"},
        )
        assert malformed.status_code == 401
        assert malformed.json()["error"] == "invalid_client"
