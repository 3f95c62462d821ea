"""The reporting service: ``uvicorn --factory services.reporting.main:create_app --port 8004``."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

import httpx
from fastapi import FastAPI

from services.reporting.cohorts.views import router as cohorts_router
from services.reporting.exports.views import router as exports_router
from services.reporting.feed.views import router as feed_router
from services.reporting.grievances.views import router as grievances_router
from services.reporting.readmodel.tasks import (
    build_consumers,
    close_clients,
    run_feeds,
)
from services.reporting.readmodel.views import router as sync_router
from services.reporting.settings import ReportingSettings, get_settings
from services.reporting.stages.views import router as stages_router
from services.reporting.targeting.views import router as targeting_router
from shared.kit.app import create_service_app
from shared.kit.tokens import TokenVerifier
from shared.programme.messages import install as install_messages

SERVICE_DIR = Path(__file__).parent


def create_app(
    settings: ReportingSettings | None = None,
    *,
    verifier: TokenVerifier | None = None,
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
) -> FastAPI:
    """The app factory (``uvicorn --factory``); tests pass their own settings, verifier and
    transports ("registry", "opportunities", "matching", "gateway") to apps in process."""
    settings = settings or get_settings()
    # Problems in Bahasa Indonesia for Accept-Language: id (the programme's messages).
    install_messages()
    app = create_service_app(
        settings,
        title="Sinergi reporting",
        description="Indicators, programme stages, exports and a status feed.",
        service_dir=SERVICE_DIR,
        routers=[
            exports_router,
            grievances_router,
            sync_router,
            feed_router,
            stages_router,
            targeting_router,
            cohorts_router,
        ],
        feed_tables=None,
        background=[run_feeds, close_clients],
        verifier=verifier,
    )
    # httpx logs every request at INFO: three feeds polled twice a second would drown the
    # service's own log lines.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    app.state.consumers, app.state.feed_clients = build_consumers(
        settings, app.state.db, transports
    )
    return app
