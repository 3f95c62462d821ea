"""At start, the admin organisation and one ``service`` organisation per internal service
client exist with the configured secrets (created when missing, secret updated if changed)."""

from __future__ import annotations

import logging

from services.gateway.organisations.service import ensure_client_organisation
from services.gateway.settings import GatewaySettings
from shared.database import Database
from shared.scopes import SERVICE_CLIENT_SCOPES

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
            # Its tokens carry no scope (shared/scopes.py): said at start, not found in a 403.
            logger.warning("service client without scopes", extra={"client_id": client_id})
    with db.session() as session:
        for name, org_type, client_id, secret in wanted:
            outcome = ensure_client_organisation(
                session, name=name, org_type=org_type, client_id=client_id, secret=secret
            )
            # Client ids are public identifiers; secrets are never logged.
            logger.info("bootstrap client", extra=outcome | {"org_type": org_type})
