"""Alembic environment of the registry service: only its own tables."""

from services.registry.models import Base
from services.registry.settings import get_settings
from shared.kit.migrations import run_env

run_env(Base.metadata, get_settings().effective_database_url())
