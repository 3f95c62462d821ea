"""The registry service: ``uvicorn --factory services.registry.main:create_app --port 8001``."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.registry.settings import RegistrySettings, get_settings
from services.registry.tables import feed_tables
from shared.app import create_service_app
from shared.tokens import TokenVerifier

SERVICE_DIR = Path(__file__).parent


def create_app(
    settings: RegistrySettings | None = None, *, verifier: TokenVerifier | None = None
) -> FastAPI:
    """The app factory (``uvicorn --factory``); tests pass their own settings and verifier."""
    return create_service_app(
        settings or get_settings(),
        title="Sinergi registry",
        description="Residents and households of the programme, the only holder of personal data.",
        service_dir=SERVICE_DIR,
        routers=[],
        feed_tables=feed_tables,
        verifier=verifier,
    )
