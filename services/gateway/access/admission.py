"""Admission of a request at the gateway: a valid token (``shared.kit.tokens``, cached by hash), an
active organisation, and the organisation's rate limit. Used by the proxy for every forwarded
request and by the gateway's own protected routes."""

from __future__ import annotations

from services.gateway.access.ratelimit import OrganisationRateLimit
from services.gateway.access.status import OrganisationStatus
from shared.kit.problems import TooManyRequests, Unauthorized
from shared.kit.tokens import InvalidToken, Principal, TokenVerifier


class Admission:
    def __init__(
        self,
        verifier: TokenVerifier,
        status: OrganisationStatus,
        rate_limit: OrganisationRateLimit,
    ) -> None:
        self.verifier = verifier
        self.status = status
        self.rate_limit = rate_limit

    async def admit(self, authorization: str | None) -> Principal:
        """The caller's principal; raises a 401 or 429 problem otherwise."""
        if not authorization:
            raise Unauthorized("a bearer token is required")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("a bearer token is required")
        try:
            principal = await self.verifier.verify(token.strip())
        except InvalidToken as exc:
            raise Unauthorized(str(exc)) from exc
        if not await self.status.is_active(principal.org_id):
            raise Unauthorized("the organisation is deactivated")
        retry_after = await self.rate_limit.hit(principal.org_id)
        if retry_after is not None:
            raise TooManyRequests(
                "the organisation's rate limit is exhausted",
                headers={"Retry-After": str(retry_after)},
            )
        return principal

    def organisation_deactivated(self, organisation_id: str) -> None:
        self.status.mark_inactive(organisation_id)
        self.verifier.forget(lambda principal: principal.org_id == organisation_id)
