"""The opportunities service (``uvicorn --factory services.opportunities.main:create_app``)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.opportunities.catalogue import views as catalogue_views
from services.opportunities.catalogue.tasks import expiry_loop
from services.opportunities.jobposting import views as jobposting_views
from services.opportunities.settings import OpportunitiesSettings, get_settings
from services.opportunities.skills import views as skill_views
from services.opportunities.tables import feed_tables
from shared.kit.app import create_service_app
from shared.kit.tokens import TokenVerifier
from shared.programme.messages import install as install_messages

SERVICE_DIR = Path(__file__).parent


def create_app(
    settings: OpportunitiesSettings | None = None, *, verifier: TokenVerifier | None = None
) -> FastAPI:
    """The app factory (``uvicorn --factory``); tests pass their own settings and verifier."""
    settings = settings or get_settings()
    # Problems in Bahasa Indonesia for Accept-Language: id (the programme's messages).
    install_messages()
    return create_service_app(
        settings,
        title="Sinergi opportunities",
        description="Every stakeholder's offers in one catalogue.",
        service_dir=SERVICE_DIR,
        # The JobPosting route comes first: "/jobposting" must not be read as an opportunity id.
        routers=[jobposting_views.router, catalogue_views.router, skill_views.router],
        feed_tables=feed_tables,
        background=[expiry_loop],
        body_limits={"/v1/opportunities/batch": settings.batch_max_bytes},
        verifier=verifier,
    )
