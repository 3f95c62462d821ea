"""``POST /v1/auth/token`` (OAuth 2.0, form-encoded) and ``GET /v1/auth/jwks.json``."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any
from urllib.parse import unquote_plus

import anyio
from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from services.gateway.access.bruteforce import LoginBrake
from services.gateway.auth.keys import KeyRing
from services.gateway.auth.service import (
    BadCredentials,
    OAuthError,
    identity_exists,
    issue_token,
)
from services.gateway.deps import SettingsDep
from services.gateway.organisations.service import (
    Authenticated,
    authenticate_client,
    authenticate_user,
)
from shared.kit.database import Database

router = APIRouter(prefix="/v1/auth", tags=["auth"])
MAX_FIELD_LENGTH = 512
FORM = "application/x-www-form-urlencoded"
# The form as RFC 6749 (4.3, 4.4) requires it: the fields are read by hand below so that a
# missing one answers an OAuth error, but the document must still say which are required.
TOKEN_FORM: dict[str, Any] = {
    "oneOf": [
        {
            "properties": {"grant_type": {"const": "client_credentials"}},
            "required": ["grant_type"],
        },
        {
            "properties": {"grant_type": {"const": "password"}},
            "required": ["grant_type", "username", "password"],
        },
    ]
}
# RFC 6749 5.1: token responses must not be cached.
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_in: int
    scope: str


class OAuthErrorBody(BaseModel):
    error: str
    error_description: str


def oauth_error_response(error: OAuthError) -> JSONResponse:
    headers = dict(NO_STORE)
    if error.status == 401:
        headers["WWW-Authenticate"] = (
            'Basic realm="sinergi"' if error.basic_challenge else 'Bearer realm="sinergi"'
        )
    return JSONResponse(
        {"error": error.error, "error_description": error.description},
        status_code=error.status,
        headers=headers,
    )


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        # RFC 6749 5.2: a client that tried the Authorization header gets 401 invalid_client.
        raise OAuthError(
            "invalid_client",
            "only HTTP Basic client authentication is supported",
            401,
            basic_challenge=True,
        )
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise OAuthError("invalid_client", "malformed Basic credentials", 401) from exc
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise OAuthError("invalid_client", "malformed Basic credentials", 401)
    # RFC 6749 2.3.1: both parts are form-urlencoded before Basic encoding.
    return unquote_plus(client_id), unquote_plus(secret)


def _field(form: dict[str, Any], name: str) -> str | None:
    value = form.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > MAX_FIELD_LENGTH:
        raise OAuthError("invalid_request", f"{name} is not a valid value")
    return value


def _required(form: dict[str, Any], name: str) -> str:
    value = _field(form, name)
    if not value:
        raise OAuthError("invalid_request", f"{name} is required")
    return value


def _claimed_identity(form: dict[str, Any], request: Request) -> str | None:
    """Who the request claims to be, for the brute-force brake: ``client:<id>`` or
    ``user:<username>`` (usernames are case-insensitive), None when it names no one."""
    grant_type = _field(form, "grant_type")
    if grant_type == "client_credentials":
        basic = _basic_credentials(request)
        client_id = basic[0] if basic else _field(form, "client_id")
        return f"client:{client_id}" if client_id else None
    if grant_type == "password":
        username = _field(form, "username")
        return f"user:{username.lower()}" if username else None
    return None


def slow_down_response(retry_after: int) -> JSONResponse:
    # RFC 6749 has no code for this; ``slow_down`` is the OAuth one for "too many attempts"
    # (RFC 8628 3.5), in the same body as every other error of this endpoint.
    return JSONResponse(
        {
            "error": "slow_down",
            "error_description": "too many failed authentications; retry later",
        },
        status_code=429,
        headers=NO_STORE | {"Retry-After": str(retry_after)},
    )


def _authenticate(db: Database, form: dict[str, Any], request: Request) -> Authenticated:
    grant_type = _required(form, "grant_type")
    if grant_type == "client_credentials":
        basic = _basic_credentials(request)
        body_id, body_secret = _field(form, "client_id"), _field(form, "client_secret")
        if basic and (body_id or body_secret):
            # RFC 6749 2.3: a client must not use more than one authentication method.
            raise OAuthError("invalid_request", "client credentials given twice")
        client_id, secret = basic or (body_id, body_secret)
        if not client_id or not secret:
            raise OAuthError(
                "invalid_client", "client authentication required", 401, basic_challenge=True
            )
        with db.session(write=False) as session:
            who = authenticate_client(session, client_id, secret)
        if who is None:
            raise BadCredentials(
                "invalid_client", "unknown client or wrong secret", 401, basic_challenge=bool(basic)
            )
        return who
    if grant_type == "password":
        username, password = _required(form, "username"), _required(form, "password")
        with db.session(write=False) as session:
            who = authenticate_user(session, username, password)
        if who is None:
            raise BadCredentials("invalid_grant", "wrong username or password")
        return who
    raise OAuthError("unsupported_grant_type", f"grant_type {grant_type!r} is not supported")


async def _exists(db: Database, identity: str | None) -> bool:
    if not identity:
        return False

    def lookup() -> bool:
        with db.session(write=False) as session:
            return identity_exists(session, identity)

    return await anyio.to_thread.run_sync(lookup)


@router.post(
    "/token",
    summary="Get an access token (client credentials or staff password)",
    response_model=TokenResponse,
    responses={
        400: {"model": OAuthErrorBody},
        401: {"model": OAuthErrorBody},
        429: {"model": OAuthErrorBody, "description": "Too many failed authentications"},
    },
    openapi_extra={"requestBody": {"required": True, "content": {FORM: {"schema": TOKEN_FORM}}}},
)
async def token(
    request: Request,
    settings: SettingsDep,
    # Declared for the OpenAPI form; read from the raw form below, so that missing or bad
    # fields answer RFC 6749 errors rather than 422.
    grant_type: Annotated[str | None, Form()] = None,
    client_id: Annotated[str | None, Form()] = None,
    client_secret: Annotated[str | None, Form()] = None,
    username: Annotated[str | None, Form()] = None,
    password: Annotated[str | None, Form()] = None,
    scope: Annotated[str | None, Form()] = None,
) -> JSONResponse:
    keys: KeyRing = request.app.state.keys
    db: Database = request.app.state.db
    brake: LoginBrake = request.app.state.login_brake
    address = request.client.host if request.client else None
    form = {
        "grant_type": grant_type,
        "client_id": client_id,
        "client_secret": client_secret,
        "username": username,
        "password": password,
        "scope": scope,
    }
    identity: str | None = None
    try:
        identity = _claimed_identity(form, request)
        # Checked before argon2, so a braked guesser costs no hashing either.
        retry_after = await brake.wait_seconds(identity, address)
        if retry_after is not None:
            return slow_down_response(retry_after)
        # An address that guessed too many names is refused for names that exist nowhere,
        # never for a known one: its failures must not refuse another party's credentials.
        unknown_wait = await brake.unknown_wait(address)
        if unknown_wait is not None and not await _exists(db, identity):
            return slow_down_response(unknown_wait)
        # argon2 costs tens of milliseconds of CPU: keep it off the event loop.
        who = await anyio.to_thread.run_sync(_authenticate, db, form, request)
        issued = issue_token(settings, keys, who, _field(form, "scope"))
    except BadCredentials as error:
        await brake.failed(identity, address, known=await _exists(db, identity))
        return oauth_error_response(error)
    except OAuthError as error:
        return oauth_error_response(error)
    body = TokenResponse(
        access_token=issued.access_token, expires_in=issued.expires_in, scope=issued.scope
    )
    return JSONResponse(body.model_dump(), headers=NO_STORE)


@router.get("/jwks.json", summary="Public keys that verify access tokens")
async def jwks(request: Request) -> JSONResponse:
    keys: KeyRing = request.app.state.keys
    return JSONResponse(keys.jwks(), headers={"Cache-Control": "public, max-age=300"})
