"""The registry service: ``uvicorn --factory services.registry.main:create_app --port 8001``."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import anyio
import httpx
from fastapi import FastAPI
from sqlmodel import Session

from services.registry import models  # noqa: F401 - every table registered before first use
from services.registry.audit.views import router as audit_router
from services.registry.bench.views import router as bench_router
from services.registry.cohorts.views import router as cohorts_router
from services.registry.deciles.views import router as deciles_router
from services.registry.disclosures.proof import close_matching_client, matching_client
from services.registry.disclosures.views import router as disclosures_router
from services.registry.duplicates.views import router as duplicates_router
from services.registry.follow_ups.plan import apply_placement_changes as plan_visits
from services.registry.follow_ups.tasks import placement_consumer, placement_feed
from services.registry.follow_ups.views import due_router
from services.registry.follow_ups.views import router as follow_ups_router
from services.registry.graduation.views import router as graduation_router
from services.registry.grievances.views import router as grievances_router
from services.registry.households.views import router as households_router
from services.registry.imports.tasks import import_worker
from services.registry.imports.views import IMPORT_PATH
from services.registry.imports.views import router as imports_router
from services.registry.notifications.senders import build_sender
from services.registry.notifications.service import apply_placement_changes as notify_residents
from services.registry.notifications.tasks import notification_sender
from services.registry.notifications.views import router as notifications_router
from services.registry.notifications.views import signed_router as notifications_signed_router
from services.registry.regions.views import router as regions_router
from services.registry.residents.views import router as residents_router
from services.registry.settings import RegistrySettings, get_settings
from services.registry.tables import feed_tables
from services.registry.villages.views import router as villages_router
from shared.kit.app import create_service_app
from shared.kit.database import AsyncStatementPool
from shared.kit.feed import Change
from shared.kit.tokens import TokenVerifier
from shared.programme.messages import install as install_messages

SERVICE_DIR = Path(__file__).parent


def apply_placement_changes(
    session: Session, changes: list[Change], *, settings: RegistrySettings
) -> None:
    """Matching's placement feed, in the consumer's transaction: the visit plan and cohort
    enrolment (follow_ups/plan.py), then the messages residents get (notifications)."""
    plan_visits(session, changes, settings)
    notify_residents(session, changes, settings)


async def close_read_pool(app: FastAPI) -> None:
    """A background task that only waits: on shutdown it closes the read pool's connections."""
    try:
        await anyio.sleep_forever()
    finally:
        await app.state.async_read_pool.dispose()


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
            deciles_router,
            disclosures_router,
            follow_ups_router,
            due_router,
            households_router,
            cohorts_router,
            graduation_router,
            villages_router,
            audit_router,
            notifications_router,
            grievances_router,
        ],
        public_routers=public,
        feed_tables=feed_tables,
        # Reads of personal data write their audit record in the same transaction.
        reads_write=True,
        background=[
            import_worker,
            placement_feed,
            notification_sender,
            close_matching_client,
            close_read_pool,
        ],
        body_limits={IMPORT_PATH: settings.import_max_bytes + 64 * 1024},
        verifier=verifier,
    )
    # GET /v1/residents/{id}'s own pool (residents/reads.py), closed on shutdown.
    app.state.async_read_pool = AsyncStatementPool(
        settings.effective_database_url(), pool_size=settings.read_pool_size
    )
    if settings.bench_unauthenticated_reads:
        # The same read from a plain def route, for the benchmark's comparison.
        app.state.read_pool = app.state.db.statement_pool(settings.read_pool_size)
    app.state.matching = matching_client(settings, matching_transport)
    # The registry's own client (registry-service) reads matching's placement feed, one
    # consumer for the visit plan and enrolment and for residents' messages, applied in one
    # transaction with the cursor; the same client relays residents' own answers.
    consumer, app.state.matching_as_registry = placement_consumer(
        settings,
        app.state.db,
        partial(apply_placement_changes, settings=settings),
        matching_transport=matching_transport,
        gateway_transport=gateway_transport,
    )
    app.state.consumers = {"matching": consumer}
    app.state.sender = build_sender(settings, notify_transport)
    return app
