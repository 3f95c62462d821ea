"""Tokens for tests, signed with a key made for the test session, exactly as the gateway
signs them (``shared.kit.tokens``), with the default scopes of each organisation type."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import FastAPI, Form, Request
from fastapi.security import HTTPBasic

from shared.kit.problems import Unauthorized, install_problem_handlers
from shared.kit.tokens import (
    TokenVerifier,
    generate_private_key_pem,
    issue_claims,
    key_id,
    public_key_pem,
    sign,
)
from shared.programme.scopes import default_scopes

ISSUER = "sinergi-gateway"
AUDIENCE = "sinergi"


class TestKeys:
    __test__ = False

    def __init__(self) -> None:
        self.private_pem = generate_private_key_pem()
        self.public_pem = public_key_pem(self.private_pem)
        self.kid = key_id(self.public_pem)

    def verifier(self) -> TokenVerifier:
        verifier = TokenVerifier(issuer=ISSUER, audience=AUDIENCE)
        verifier.add_public_key(self.public_pem, self.kid)
        return verifier

    def token(
        self,
        org_type: str,
        *,
        org_id: str | None = None,
        region: str | None = None,
        scopes: set[str] | frozenset[str] | None = None,
        user_id: str | None = None,
        lifetime: int = 900,
        **overrides: Any,
    ) -> str:
        claims = issue_claims(
            issuer=ISSUER,
            audience=AUDIENCE,
            subject=f"user:{user_id}" if user_id else f"client:{uuid.uuid4().hex[:12]}",
            org_id=org_id or f"org-{org_type}-{uuid.uuid4().hex[:6]}",
            org_type=org_type,
            region=region,
            scopes=default_scopes(org_type) if scopes is None else scopes,
            lifetime_seconds=lifetime,
        )
        claims.update(overrides)
        return sign(claims, self.private_pem, self.kid)

    def headers(self, org_type: str, **kwargs: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(org_type, **kwargs)}"}


def token_endpoint(
    keys: TestKeys, org_id: str, credentials: tuple[str, str] | None = None
) -> FastAPI:
    """The gateway's ``POST /v1/auth/token`` as a service sees it: a service token for
    ``org_id``. Given ``credentials`` (client id, secret), it answers only that client's
    client-credentials grant, as the gateway does; without, anyone who asks."""
    app = FastAPI()
    install_problem_handlers(app)

    def issued() -> dict[str, Any]:
        return {
            "access_token": keys.token("service", org_id=org_id),
            "token_type": "bearer",
            "expires_in": 900,
        }

    if credentials is None:

        @app.post("/v1/auth/token")
        async def any_token() -> dict[str, Any]:
            return issued()

        return app
    basic = HTTPBasic(auto_error=False)

    @app.post("/v1/auth/token")
    async def token(request: Request, grant_type: Annotated[str, Form()]) -> dict[str, Any]:
        given = await basic(request)
        if (
            grant_type != "client_credentials"
            or given is None
            or (given.username, given.password) != credentials
        ):
            raise Unauthorized("bad client credentials")
        return issued()

    return app
