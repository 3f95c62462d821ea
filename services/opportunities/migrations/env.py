"""Alembic environment of the opportunities service: only its own tables."""

from services.opportunities.models import Base
from services.opportunities.settings import get_settings
from shared.kit.migrations import run_env

run_env(Base.metadata, get_settings().effective_database_url())
