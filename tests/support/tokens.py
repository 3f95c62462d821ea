"""Tokens for tests, signed with a key made for the test session, exactly as the gateway
signs them (``shared.kit.tokens``), with the default scopes of each organisation type."""

from __future__ import annotations

import uuid
from typing import Any

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
