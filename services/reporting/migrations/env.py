"""Alembic environment of the reporting service: only its own tables."""

from services.reporting.models import Base
from services.reporting.settings import get_settings
from shared.kit.migrations import run_env

run_env(Base.metadata, get_settings().effective_database_url())
