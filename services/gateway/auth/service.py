"""Issuing access tokens (claims exactly as docs/contracts.md)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from services.gateway.auth.keys import KeyRing
from services.gateway.organisations.models import ClientCredential, StaffUser
from services.gateway.organisations.service import Authenticated
from services.gateway.settings import GatewaySettings
from shared.kit.tokens import issue_claims, sign
from shared.programme.scopes import client_scopes


class OAuthError(Exception):
    """An RFC 6749 section 5.2 error: ``error`` code, description and HTTP status."""

    def __init__(
        self, error: str, description: str, status: int = 400, *, basic_challenge: bool = False
    ) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status
        self.basic_challenge = basic_challenge


class BadCredentials(OAuthError):
    """A wrong secret or password (or an unknown, revoked or deactivated identity): the
    failures the brute-force brake counts. A malformed or incomplete request is not one."""


@dataclass(frozen=True, slots=True)
class IssuedToken:
    access_token: str
    expires_in: int
    scope: str


def granted_scopes(
    org_type: str, requested: str | None, client_id: str | None = None
) -> frozenset[str]:
    """The organisation type's default scopes (a service client's own row of the table),
    narrowed to ``requested`` when given. Asking for a scope the caller does not hold is
    ``invalid_scope`` rather than a silent drop."""
    allowed = client_scopes(org_type, client_id)
    if requested is None or not requested.strip():
        return allowed
    wanted = frozenset(requested.split())
    extra = wanted - allowed
    if extra:
        raise OAuthError("invalid_scope", f"scope not granted to this organisation: {min(extra)}")
    return wanted


def issue_token(
    settings: GatewaySettings, keys: KeyRing, who: Authenticated, requested_scope: str | None
) -> IssuedToken:
    organisation = who.organisation
    kind, _, name = who.subject.partition(":")
    client_id = name if kind == "client" else None
    scopes = granted_scopes(organisation.type, requested_scope, client_id)
    claims = issue_claims(
        issuer=settings.token_issuer,
        audience=settings.token_audience,
        subject=who.subject,
        org_id=organisation.id,
        org_type=organisation.type,
        region=organisation.region_code,
        scopes=scopes,
        lifetime_seconds=settings.token_lifetime_seconds,
    )
    return IssuedToken(
        access_token=sign(claims, keys.private_pem, keys.kid),
        expires_in=settings.token_lifetime_seconds,
        scope=claims["scope"],
    )


def identity_exists(session: Session, identity: str) -> bool:
    """Whether a claimed identity (``client:<id>`` or ``user:<username>``) names a client or
    a user at all, revoked or deactivated ones included: for the login brake, which braces
    guessed names per address and known ones per identity."""
    kind, _, name = identity.partition(":")
    if kind == "client":
        statement = select(ClientCredential.id).where(col(ClientCredential.client_id) == name)
    elif kind == "user":
        statement = select(StaffUser.id).where(col(StaffUser.username) == name.lower())
    else:
        return False
    return session.exec(statement).first() is not None
