"""The registry service: ``uvicorn --factory services.registry.main:create_app --port 8001``."""

from __future__ import annotations

from pathlib import Path

import httpx
from fastapi import FastAPI

from services.registry import models  # noqa: F401 - every table registered before first use
from services.registry.audit.views import router as audit_router
from services.registry.bench.views import router as bench_router
from services.registry.disclosures.proof import close_matching_client, matching_client
from services.registry.disclosures.views import router as disclosures_router
from services.registry.duplicates.views import router as duplicates_router
from services.registry.follow_ups.views import router as follow_ups_router
from services.registry.grievances.views import router as grievances_router
from services.registry.households.views import router as households_router
from services.registry.imports.tasks import import_worker
from services.registry.imports.views import IMPORT_PATH
from services.registry.imports.views import router as imports_router
from services.registry.notifications.senders import build_sender
from services.registry.notifications.service import apply_placement_changes
from services.registry.notifications.tasks import notification_sender, placement_feed
from services.registry.notifications.views import router as notifications_router
from services.registry.notifications.views import signed_router as notifications_signed_router
from services.registry.regions.views import router as regions_router
from services.registry.residents.views import router as residents_router
from services.registry.settings import RegistrySettings, get_settings
from services.registry.tables import feed_tables
from shared.kit.app import create_service_app
from shared.kit.feed import FeedConsumer, HttpFeedSource
from shared.kit.http import ClientCredentialsTokenSource, service_client
from shared.kit.tokens import TokenVerifier
from shared.programme.messages import install as install_messages

SERVICE_DIR = Path(__file__).parent


def create_app(
    settings: RegistrySettings | None = None,
    *,
    verifier: TokenVerifier | None = None,
    matching_transport: httpx.AsyncBaseTransport | None = None,
    gateway_transport: httpx.AsyncBaseTransport | None = None,
    notify_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """The app factory (``uvicorn --factory``); tests pass their own settings and verifier, and
    transports around the real matching app, a token endpoint and an SMS gateway."""
    settings = settings or get_settings()
    # Problems in Bahasa Indonesia for Accept-Language: id (the programme's messages).
    install_messages()
    public = [regions_router, notifications_signed_router]
    if settings.bench_unauthenticated_reads:
        public.append(bench_router)
    app = create_service_app(
        settings,
        title="Sinergi registry",
        description="Residents and households of the programme, the only holder of personal data.",
        service_dir=SERVICE_DIR,
        # Fixed paths before /v1/residents/{id}, so "duplicates" is not taken for an id.
        routers=[
            duplicates_router,
            imports_router,
            residents_router,
            disclosures_router,
            follow_ups_router,
            households_router,
            audit_router,
            notifications_router,
            grievances_router,
        ],
        public_routers=public,
        feed_tables=feed_tables,
        # Reads of personal data write their audit record in the same transaction.
        reads_write=True,
        background=[import_worker, close_matching_client, notification_sender, placement_feed],
        body_limits={IMPORT_PATH: settings.import_max_bytes + 64 * 1024},
        verifier=verifier,
    )
    app.state.matching = matching_client(settings, matching_transport)
    # The registry's own client (registry-service): matching's placement feed, and residents'
    # own answers to their offers.
    app.state.matching_as_registry = service_client(
        settings.matching_url,
        token_source=ClientCredentialsTokenSource(
            settings.token_url,
            settings.client_id,
            settings.client_secret,
            transport=gateway_transport,
        ),
        timeout_seconds=settings.request_timeout_seconds,
        transport=matching_transport,
    )
    app.state.consumers = {
        "matching": FeedConsumer(
            "matching",
            app.state.db,
            feed_tables,
            HttpFeedSource(app.state.matching_as_registry),
            lambda session, changes: apply_placement_changes(session, changes, settings),
            batch_size=settings.feed_batch_size,
        )
    }
    app.state.sender = build_sender(settings, notify_transport)
    return app
