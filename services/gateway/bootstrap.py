"""At start, the admin organisation and one ``service`` organisation per internal service
client are created with the configured secrets when they are missing, and only then.

What exists is never changed: a client revoked, rotated or deactivated through the API stays
so across restarts (a start that revived it would make every revocation last only until the
next pod start). Rotating a bootstrap secret is therefore done through the API, as for any
client; services/gateway/README.md ("Bootstrap clients") gives the steps. What the start found
is logged by client id (never a secret), with a warning when the configuration and the
database disagree."""

from __future__ import annotations

import logging

from services.gateway.organisations.service import ensure_client_organisation
from services.gateway.settings import GatewaySettings
from shared.kit.database import Database
from shared.programme.scopes import SERVICE_CLIENT_SCOPES

logger = logging.getLogger("sinergi.gateway.bootstrap")
ADMIN_ORGANISATION_NAME = "Sinergi programme secretariat"


def bootstrap(db: Database, settings: GatewaySettings) -> None:
    wanted: list[tuple[str, str, str, str]] = []
    admin = settings.admin_credentials()
    if admin is not None:
        wanted.append((ADMIN_ORGANISATION_NAME, "admin", *admin))
    for client_id, secret in sorted(settings.effective_service_clients().items()):
        wanted.append((client_id, "service", client_id, secret))
        if client_id not in SERVICE_CLIENT_SCOPES:
            # Its tokens carry no scope (shared/programme/scopes.py): said at start, not in a 403.
            logger.warning("service client without scopes", extra={"client_id": client_id})
    with db.session() as session:
        for name, org_type, client_id, secret in wanted:
            outcome = ensure_client_organisation(
                session, name=name, org_type=org_type, client_id=client_id, secret=secret
            )
            # Client ids are public identifiers; secrets are never logged.
            extra = outcome | {"org_type": org_type}
            if "wrong_type" in outcome:
                logger.error("bootstrap client not created: name of another type", extra=extra)
            elif outcome["revoked"]:
                logger.warning("bootstrap client is revoked and stays so", extra=extra)
            elif not outcome["organisation_active"]:
                logger.warning("bootstrap organisation is deactivated and stays so", extra=extra)
            elif not outcome["configured_secret_matches"]:
                logger.warning(
                    "bootstrap client secret differs from the configured one; the stored one "
                    "stays (rotated through the API?)",
                    extra=extra,
                )
            else:
                logger.info("bootstrap client", extra=extra)
