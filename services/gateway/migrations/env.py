"""Alembic environment of the gateway service: only its own tables."""

from services.gateway.models import Base
from services.gateway.settings import get_settings
from shared.kit.migrations import run_env

run_env(Base.metadata, get_settings().effective_database_url())
