"""The matching service: ``uvicorn --factory services.matching.main:create_app --port 8003``."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.matching.settings import MatchingSettings, get_settings
from services.matching.tables import feed_tables
from shared.app import create_service_app
from shared.tokens import TokenVerifier

SERVICE_DIR = Path(__file__).parent


def create_app(
    settings: MatchingSettings | None = None, *, verifier: TokenVerifier | None = None
) -> FastAPI:
    """The app factory (``uvicorn --factory``); tests pass their own settings and verifier."""
    return create_service_app(
        settings or get_settings(),
        title="Sinergi matching",
        description="Eligibility, scoring and allocation of residents; placements.",
        service_dir=SERVICE_DIR,
        routers=[],
        feed_tables=feed_tables,
        verifier=verifier,
    )
