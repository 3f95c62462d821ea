"""The reporting service: ``uvicorn --factory services.reporting.main:create_app --port 8004``."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.reporting.settings import ReportingSettings, get_settings
from shared.app import create_service_app
from shared.tokens import TokenVerifier

SERVICE_DIR = Path(__file__).parent


def create_app(
    settings: ReportingSettings | None = None, *, verifier: TokenVerifier | None = None
) -> FastAPI:
    """The app factory (``uvicorn --factory``); tests pass their own settings and verifier."""
    return create_service_app(
        settings or get_settings(),
        title="Sinergi reporting",
        description="Indicators, programme stages, exports and a status feed.",
        service_dir=SERVICE_DIR,
        routers=[],
        feed_tables=None,
        verifier=verifier,
    )
