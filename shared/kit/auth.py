"""Authentication and scope checks as ``Annotated`` dependencies.

Every router a service mounts through :func:`shared.kit.app.create_service_app` requires a valid
token (``CurrentPrincipal``); endpoints meant to be public go on the public router. Row-level
rights (own region, own opportunities, disclosed residents) stay in each service.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.kit.problems import Forbidden, Unauthorized
from shared.kit.tokens import InvalidToken, Principal, TokenVerifier

bearer_scheme = HTTPBearer(auto_error=False, description="Access token from POST /v1/auth/token")


def get_verifier(request: Request) -> TokenVerifier:
    verifier: TokenVerifier = request.app.state.verifier
    return verifier


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("a bearer token is required")
    try:
        principal = await get_verifier(request).verify(credentials.credentials)
    except InvalidToken as exc:
        raise Unauthorized(str(exc)) from exc
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def scoped(*scopes: str) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that passes the caller on only when it holds every scope named. Services
    wrap it once per scope in a static alias, so a route's signature says what it needs::

        ResidentsReader = Annotated[Principal, Depends(scoped(RESIDENTS_READ))]
    """

    async def dependency(principal: CurrentPrincipal) -> Principal:
        missing = [scope for scope in scopes if scope not in principal.scopes]
        if missing:
            raise Forbidden(f"this action needs the scope {', '.join(missing)}")
        return principal

    return dependency
