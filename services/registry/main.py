"""The registry service: ``uvicorn --factory services.registry.main:create_app --port 8001``."""

from __future__ import annotations

from pathlib import Path

import httpx
from fastapi import FastAPI

from services.registry import models  # noqa: F401 - every table registered before first use
from services.registry.audit.views import router as audit_router
from services.registry.bench.views import router as bench_router
from services.registry.cohorts.views import router as cohorts_router
from services.registry.deciles.views import router as deciles_router
from services.registry.disclosures.proof import close_matching_client, matching_client
from services.registry.disclosures.views import router as disclosures_router
from services.registry.duplicates.views import router as duplicates_router
from services.registry.follow_ups.tasks import (
    close_placement_client,
    placement_consumer,
    placement_feed,
)
from services.registry.follow_ups.views import due_router
from services.registry.follow_ups.views import router as follow_ups_router
from services.registry.graduation.views import router as graduation_router
from services.registry.households.views import router as households_router
from services.registry.imports.tasks import import_worker
from services.registry.imports.views import IMPORT_PATH
from services.registry.imports.views import router as imports_router
from services.registry.regions.views import router as regions_router
from services.registry.residents.views import router as residents_router
from services.registry.settings import RegistrySettings, get_settings
from services.registry.tables import feed_tables
from services.registry.villages.views import router as villages_router
from shared.kit.app import create_service_app
from shared.kit.tokens import TokenVerifier

SERVICE_DIR = Path(__file__).parent


def create_app(
    settings: RegistrySettings | None = None,
    *,
    verifier: TokenVerifier | None = None,
    matching_transport: httpx.AsyncBaseTransport | None = None,
    gateway_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """The app factory (``uvicorn --factory``); tests pass their own settings and verifier, and
    transports around the real matching app and a token endpoint."""
    settings = settings or get_settings()
    public = [regions_router]
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
        ],
        public_routers=public,
        feed_tables=feed_tables,
        # Reads of personal data write their audit record in the same transaction.
        reads_write=True,
        background=[import_worker, placement_feed, close_matching_client, close_placement_client],
        body_limits={IMPORT_PATH: settings.import_max_bytes + 64 * 1024},
        verifier=verifier,
    )
    app.state.matching = matching_client(settings, matching_transport)
    app.state.placement_consumer, app.state.placement_client = placement_consumer(
        settings,
        app.state.db,
        matching_transport=matching_transport,
        gateway_transport=gateway_transport,
    )
    return app
