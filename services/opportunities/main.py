"""The opportunities service (``uvicorn --factory services.opportunities.main:create_app``)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.opportunities.settings import OpportunitiesSettings, get_settings
from services.opportunities.tables import feed_tables
from shared.app import create_service_app
from shared.tokens import TokenVerifier

SERVICE_DIR = Path(__file__).parent


def create_app(
    settings: OpportunitiesSettings | None = None, *, verifier: TokenVerifier | None = None
) -> FastAPI:
    """The app factory (``uvicorn --factory``); tests pass their own settings and verifier."""
    return create_service_app(
        settings or get_settings(),
        title="Sinergi opportunities",
        description="Every stakeholder's offers in one catalogue.",
        service_dir=SERVICE_DIR,
        routers=[],
        feed_tables=feed_tables,
        verifier=verifier,
    )
