"""Alembic environment of the matching service: only its own tables."""

from services.matching.models import Base
from services.matching.settings import get_settings
from shared.kit.migrations import run_env

run_env(Base.metadata, get_settings().effective_database_url())
