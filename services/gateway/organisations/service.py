"""Organisations, client credentials and staff users: plain functions over a session.

Secrets are compared only through argon2; an unknown client id still costs one argon2
verification, so response time does not reveal which client ids exist.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped
from sqlmodel import Session, col, select

from services.gateway.organisations.models import (
    ClientCredential,
    ClientCredentialIssued,
    Organisation,
    OrganisationCreate,
    StaffUser,
    StaffUserCreate,
)
from services.gateway.settings import GatewaySettings
from shared.kit.database import Database, table_of
from shared.kit.pagination import PageParams, paginate
from shared.kit.problems import Conflict, NotFound, UnprocessableEntity
from shared.kit.time import as_utc, utcnow
from shared.programme.regions import is_known
from shared.programme.scopes import SERVICE_CLIENT_SCOPES

# The level of region each local government governs.
REGION_LEVEL = {"village_government": "village", "district_government": "district"}
CLIENT_ID_PREFIX = "sc_"
# How long an Idempotency-Key of POST .../clients stays bound to the credential it issued.
IDEMPOTENCY_WINDOW = timedelta(hours=24)
IDEMPOTENCY_FIELD: list[str | int] = ["header", "Idempotency-Key"]
ADMIN_ORGANISATION_NAME = "Sinergi programme secretariat"
# The start log keeps its own logger name, so operators can pick its lines out.
bootstrap_logger = logging.getLogger("sinergi.gateway.bootstrap")

hasher = PasswordHasher()
# Verified against when a client id or username is unknown, to even out timing.
_DUMMY_HASH = hasher.hash(secrets.token_urlsafe(16))


def use_hasher(time_cost: int, memory_kib: int, parallelism: int) -> None:
    """Set the argon2 cost of new hashes (settings). Stored hashes carry their own parameters,
    so a change keeps every existing secret and password valid."""
    global hasher, _DUMMY_HASH
    if (hasher.time_cost, hasher.memory_cost, hasher.parallelism) == (
        time_cost,
        memory_kib,
        parallelism,
    ):
        return
    hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)
    _DUMMY_HASH = hasher.hash(secrets.token_urlsafe(16))


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def verify_secret(stored_hash: str | None, secret: str) -> bool:
    try:
        return hasher.verify(stored_hash or _DUMMY_HASH, secret) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


# Organisations -----------------------------------------------------------------------------


def validate_region(data: OrganisationCreate) -> None:
    level = REGION_LEVEL.get(data.type)
    if level is None:
        if data.region_code is not None:
            raise UnprocessableEntity(
                "region_code", "only village and district governments govern a region"
            )
        return
    if not data.region_code:
        raise UnprocessableEntity("region_code", f"a {data.type} must name the {level} it governs")
    if not is_known(data.region_code, level):
        raise UnprocessableEntity(
            "region_code", f"{data.region_code!r} is not a {level} code of the Kemendagri list"
        )


# Types that only configuration makes (bootstrap, GATEWAY_SERVICE_CLIENTS and the admin
# credentials): through the API an admin could otherwise mint a service that discloses
# residents, or a second admin.
CONFIGURED_TYPES = frozenset({"service", "admin"})


def validate_type(data: OrganisationCreate) -> None:
    if data.type in CONFIGURED_TYPES:
        raise UnprocessableEntity(
            "type", f"organisations of type {data.type} come from configuration only"
        )


def create_organisation(session: Session, data: OrganisationCreate) -> tuple[Organisation, bool]:
    """The organisation, and whether it was created now. A retried create with the same body
    answers the organisation made the first time; the same name with other details is 409."""
    validate_type(data)
    validate_region(data)
    existing = session.exec(select(Organisation).where(col(Organisation.name) == data.name)).first()
    if existing is not None:
        if (existing.type, existing.region_code) == (data.type, data.region_code):
            return existing, False
        raise Conflict(f"an organisation named {data.name!r} already exists")
    organisation = Organisation(name=data.name, type=data.type, region_code=data.region_code)
    session.add(organisation)
    session.flush()
    return organisation, True


def list_organisations(
    session: Session, params: PageParams, *, org_type: str | None = None
) -> tuple[list[Organisation], str | None]:
    statement = select(Organisation)
    if org_type is not None:
        statement = statement.where(col(Organisation.type) == org_type)
    rows, cursor = paginate(session, statement, [table_of(Organisation).c.id], params)
    return rows, cursor


def get_organisation(session: Session, organisation_id: str) -> Organisation:
    organisation = session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound(f"no organisation {organisation_id}")
    return organisation


def deactivate_organisation(session: Session, organisation_id: str) -> Organisation:
    """Idempotent: deactivating twice keeps the first time."""
    organisation = get_organisation(session, organisation_id)
    if organisation.active:
        organisation.active = False
        organisation.deactivated_at = utcnow()
        session.add(organisation)
    return organisation


def organisation_is_active(session: Session, organisation_id: str) -> bool:
    organisation = session.get(Organisation, organisation_id)
    return organisation is not None and organisation.active


# Client credentials -----------------------------------------------------------------------


def _issued(credential: ClientCredential, secret: str) -> ClientCredentialIssued:
    return ClientCredentialIssued(**credential.model_dump(), client_secret=secret)


def _fingerprint(label: str | None) -> str:
    return hashlib.sha256(json.dumps({"label": label}, sort_keys=True).encode()).hexdigest()


def _organisation_credential(
    session: Session, organisation_id: str, key: Mapped[str | None], value: str
) -> ClientCredential | None:
    """The organisation's credential whose ``key`` column holds ``value``: its client id, or
    the idempotency key it was issued under (each unique within the organisation)."""
    return session.exec(
        select(ClientCredential).where(
            col(ClientCredential.organisation_id) == organisation_id, key == value
        )
    ).first()


def _replay(
    session: Session, organisation_id: str, idempotency_key: str, fingerprint: str
) -> ClientCredential | None:
    """The credential issued under this key within the window, if any. A key older than the
    window is released (cleared on its old credential) so that it may issue anew."""
    earlier = _organisation_credential(
        session, organisation_id, col(ClientCredential.idempotency_key), idempotency_key
    )
    if earlier is None:
        return None
    if as_utc(earlier.created_at) <= utcnow() - IDEMPOTENCY_WINDOW:
        earlier.idempotency_key = None
        earlier.request_fingerprint = None
        session.add(earlier)
        session.flush()
        return None
    if earlier.request_fingerprint != fingerprint:
        raise UnprocessableEntity(
            IDEMPOTENCY_FIELD, "this key was already used with a different body"
        )
    return earlier


def issue_credential(
    session: Session,
    organisation_id: str,
    label: str | None,
    idempotency_key: str | None = None,
) -> ClientCredentialIssued | ClientCredential:
    """A new credential with its secret, or, for a retry under the same ``idempotency_key``
    and body within 24 hours, the credential issued the first time WITHOUT its secret: the
    secret exists only in the first answer (only its hash is stored). A caller that lost that
    answer revokes the credential and issues a new one; it is never left with a second live
    secret it does not know."""
    organisation = get_organisation(session, organisation_id)
    fingerprint = _fingerprint(label)
    if idempotency_key is not None:
        earlier = _replay(session, organisation.id, idempotency_key, fingerprint)
        if earlier is not None:
            return earlier
    if not organisation.active:
        raise Conflict("the organisation is deactivated")
    secret = new_secret()
    credential = ClientCredential(
        organisation_id=organisation.id,
        client_id=CLIENT_ID_PREFIX + secrets.token_hex(10),
        secret_hash=hasher.hash(secret),
        label=label,
        idempotency_key=idempotency_key,
        request_fingerprint=fingerprint if idempotency_key is not None else None,
    )
    session.add(credential)
    try:
        session.flush()
    except IntegrityError as exc:  # the same key raced in: the retry finds that credential
        raise Conflict(
            "a credential with this Idempotency-Key is being issued; retry",
            errors=[{"loc": IDEMPOTENCY_FIELD, "msg": "in use", "type": "conflict"}],
        ) from exc
    return _issued(credential, secret)


def list_credentials(session: Session, organisation_id: str) -> list[ClientCredential]:
    get_organisation(session, organisation_id)
    statement = (
        select(ClientCredential)
        .where(col(ClientCredential.organisation_id) == organisation_id)
        .order_by(col(ClientCredential.created_at), col(ClientCredential.client_id))
    )
    return list(session.exec(statement))


def _credential(session: Session, organisation_id: str, client_id: str) -> ClientCredential:
    credential = _organisation_credential(
        session, organisation_id, col(ClientCredential.client_id), client_id
    )
    if credential is None:
        raise NotFound(f"no client {client_id} in organisation {organisation_id}")
    return credential


def revoke_credential(session: Session, organisation_id: str, client_id: str) -> ClientCredential:
    """Idempotent: the first revocation time is kept."""
    credential = _credential(session, organisation_id, client_id)
    if credential.revoked_at is None:
        credential.revoked_at = utcnow()
        session.add(credential)
    return credential


def rotate_credential(
    session: Session, organisation_id: str, client_id: str
) -> ClientCredentialIssued:
    """A new secret for the same client id; the old secret stops working at once. For an
    overlap without downtime, issue a second credential and revoke the first later."""
    credential = _credential(session, organisation_id, client_id)
    if credential.revoked_at is not None:
        raise Conflict(f"client {client_id} is revoked")
    secret = new_secret()
    credential.secret_hash = hasher.hash(secret)
    credential.rotated_at = utcnow()
    session.add(credential)
    return _issued(credential, secret)


@dataclass(frozen=True, slots=True)
class Authenticated:
    subject: str
    organisation: Organisation


def authenticate_client(session: Session, client_id: str, secret: str) -> Authenticated | None:
    credential = session.exec(
        select(ClientCredential).where(col(ClientCredential.client_id) == client_id)
    ).first()
    if not verify_secret(credential.secret_hash if credential else None, secret):
        return None
    assert credential is not None
    if credential.revoked_at is not None:
        return None
    organisation = session.get(Organisation, credential.organisation_id)
    if organisation is None or not organisation.active:
        return None
    return Authenticated(subject=f"client:{client_id}", organisation=organisation)


# Staff users ------------------------------------------------------------------------------


def add_user(session: Session, organisation_id: str, data: StaffUserCreate) -> StaffUser:
    organisation = get_organisation(session, organisation_id)
    if not organisation.active:
        raise Conflict("the organisation is deactivated")
    taken = session.exec(select(StaffUser).where(col(StaffUser.username) == data.username)).first()
    if taken is not None:
        raise Conflict(f"the username {data.username!r} is taken")
    user = StaffUser(
        organisation_id=organisation.id,
        username=data.username,
        password_hash=hasher.hash(data.password),
    )
    session.add(user)
    session.flush()
    return user


def list_users(
    session: Session, organisation_id: str, params: PageParams
) -> tuple[list[StaffUser], str | None]:
    get_organisation(session, organisation_id)
    statement = select(StaffUser).where(col(StaffUser.organisation_id) == organisation_id)
    rows, cursor = paginate(session, statement, [table_of(StaffUser).c.id], params)
    return rows, cursor


def deactivate_user(session: Session, organisation_id: str, user_id: str) -> StaffUser:
    """Idempotent. The user gets no new tokens; a token already issued runs out within its
    lifetime (at most ``GATEWAY_TOKEN_LIFETIME_SECONDS``): revoking single tokens is not kept."""
    get_organisation(session, organisation_id)
    user = session.exec(
        select(StaffUser).where(
            col(StaffUser.id) == user_id, col(StaffUser.organisation_id) == organisation_id
        )
    ).first()
    if user is None:
        raise NotFound(f"no user {user_id} in organisation {organisation_id}")
    if user.active:
        user.active = False
        session.add(user)
    return user


def authenticate_user(session: Session, username: str, password: str) -> Authenticated | None:
    user = session.exec(
        select(StaffUser).where(col(StaffUser.username) == username.lower())
    ).first()
    if not verify_secret(user.password_hash if user else None, password):
        return None
    assert user is not None
    if not user.active:
        return None
    organisation = session.get(Organisation, user.organisation_id)
    if organisation is None or not organisation.active:
        return None
    return Authenticated(subject=f"user:{user.id}", organisation=organisation)


# Bootstrap --------------------------------------------------------------------------------


def ensure_client_organisation(
    session: Session, *, name: str, org_type: str, client_id: str, secret: str
) -> dict[str, Any]:
    """The organisation owning ``client_id`` and its credential are created when missing, and
    only then. An existing credential is left exactly as the API left it: a revocation, a
    deactivation or a rotation through ``/v1/organisations`` outlasts every restart, because a
    start that undid them would revive a secret someone cut off on purpose (issue 13, item 9).
    The outcome says what was found, for the start log; it never holds a secret."""
    credential = session.exec(
        select(ClientCredential).where(col(ClientCredential.client_id) == client_id)
    ).first()
    if credential is not None:
        organisation = session.get(Organisation, credential.organisation_id)
        return {
            "client_id": client_id,
            "new_client": False,
            "revoked": credential.revoked_at is not None,
            "organisation_active": bool(organisation and organisation.active),
            # The configured secret only creates a missing client; one that no longer
            # matches means a rotation through the API (or a stale configuration).
            "configured_secret_matches": credential.revoked_at is None
            and verify_secret(credential.secret_hash, secret),
        }
    organisation = session.exec(select(Organisation).where(col(Organisation.name) == name)).first()
    if organisation is not None and organisation.type != org_type:
        # A same-named organisation of another type must not receive this client: its type,
        # not the configuration, would then decide the client's scopes.
        return {"client_id": client_id, "new_client": False, "wrong_type": organisation.type}
    if organisation is None:
        organisation = Organisation(name=name, type=org_type)
        session.add(organisation)
        session.flush()
    credential = ClientCredential(
        organisation_id=organisation.id,
        client_id=client_id,
        secret_hash=hasher.hash(secret),
        label="bootstrap",
    )
    session.add(credential)
    session.flush()
    return {
        "client_id": client_id,
        "new_client": True,
        "revoked": False,
        "organisation_active": organisation.active,
        "configured_secret_matches": True,
    }


def bootstrap_clients(db: Database, settings: GatewaySettings) -> None:
    """At start, the admin organisation and one ``service`` organisation per internal service
    client are created with the configured secrets when they are missing, and only then.

    What exists is never changed: a client revoked, rotated or deactivated through the API stays
    so across restarts (a start that revived it would make every revocation last only until the
    next pod start). Rotating a bootstrap secret is therefore done through the API, as for any
    client; services/gateway/README.md ("Bootstrap clients") gives the steps. What the start
    found is logged by client id (never a secret), with a warning when the configuration and the
    database disagree."""
    wanted: list[tuple[str, str, str, str]] = []
    admin = settings.admin_credentials()
    if admin is not None:
        wanted.append((ADMIN_ORGANISATION_NAME, "admin", *admin))
    for client_id, secret in sorted(settings.effective_service_clients().items()):
        wanted.append((client_id, "service", client_id, secret))
        if client_id not in SERVICE_CLIENT_SCOPES:
            # Its tokens carry no scope (shared/programme/scopes.py): said at start, not in a 403.
            bootstrap_logger.warning(
                "service client without scopes", extra={"client_id": client_id}
            )
    with db.session() as session:
        for name, org_type, client_id, secret in wanted:
            outcome = ensure_client_organisation(
                session, name=name, org_type=org_type, client_id=client_id, secret=secret
            )
            # Client ids are public identifiers; secrets are never logged.
            extra = outcome | {"org_type": org_type}
            if "wrong_type" in outcome:
                bootstrap_logger.error(
                    "bootstrap client not created: name of another type", extra=extra
                )
            elif outcome["revoked"]:
                bootstrap_logger.warning("bootstrap client is revoked and stays so", extra=extra)
            elif not outcome["organisation_active"]:
                bootstrap_logger.warning(
                    "bootstrap organisation is deactivated and stays so", extra=extra
                )
            elif not outcome["configured_secret_matches"]:
                bootstrap_logger.warning(
                    "bootstrap client secret differs from the configured one; the stored one "
                    "stays (rotated through the API?)",
                    extra=extra,
                )
            else:
                bootstrap_logger.info("bootstrap client", extra=extra)
