"""The matching service: ``uvicorn --factory services.matching.main:create_app --port 8003``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import httpx
from fastapi import FastAPI

from services.matching.placements.tasks import run_disclosures, run_expiry
from services.matching.placements.views import router as placements_router
from services.matching.readmodel.service import apply_opportunity_changes, apply_resident_changes
from services.matching.readmodel.tasks import run_feeds
from services.matching.readmodel.views import router as sync_router
from services.matching.runs.tasks import run_worker
from services.matching.runs.views import router as runs_router
from services.matching.scoring.views import router as lookups_router
from services.matching.settings import MatchingSettings, get_settings
from services.matching.tables import feed_tables
from shared.kit.app import create_service_app
from shared.kit.background import close_on_shutdown
from shared.kit.feed import FeedConsumer, HttpFeedSource
from shared.kit.http import ClientCredentialsTokenSource, service_client
from shared.kit.tokens import TokenVerifier
from shared.programme.messages import install as install_messages

SERVICE_DIR = Path(__file__).parent


async def close_clients(app: FastAPI) -> None:
    # The feed consumers and the disclosure sender share the clients this factory opens.
    await close_on_shutdown(app.state.clients.values())


def create_app(
    settings: MatchingSettings | None = None,
    *,
    verifier: TokenVerifier | None = None,
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
) -> FastAPI:
    """The app factory (``uvicorn --factory``); tests pass their own settings, verifier and
    transports ("registry", "opportunities", "gateway") around real apps."""
    settings = settings or get_settings()
    # Problems in Bahasa Indonesia for Accept-Language: id (the programme's messages).
    install_messages()
    transports = transports or {}
    app = create_service_app(
        settings,
        title="Sinergi matching",
        description="Eligibility, scoring and allocation of residents; placements.",
        service_dir=SERVICE_DIR,
        routers=[sync_router, runs_router, lookups_router, placements_router],
        feed_tables=feed_tables,
        background=[close_clients, run_feeds, run_worker, run_disclosures, run_expiry],
        verifier=verifier,
    )
    token_source = ClientCredentialsTokenSource(
        settings.token_url,
        settings.client_id,
        settings.client_secret,
        transport=transports.get("gateway"),
    )

    def client(name: str, url: str) -> httpx.AsyncClient:
        return service_client(
            url,
            token_source=token_source,
            timeout_seconds=settings.request_timeout_seconds,
            transport=transports.get(name),
        )

    app.state.clients = {
        "registry": client("registry", settings.registry_url),
        "opportunities": client("opportunities", settings.opportunities_url),
    }
    db = app.state.db
    app.state.consumers = {
        name: FeedConsumer(
            name,
            db,
            feed_tables,
            HttpFeedSource(app.state.clients[name]),
            applier,
            batch_size=settings.feed_batch_size,
        )
        for name, applier in (
            ("registry", apply_resident_changes),
            ("opportunities", apply_opportunity_changes),
        )
    }
    return app
