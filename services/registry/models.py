"""Every table of the registry service, imported here so Alembic sees them all."""

from services.registry.tables import Base, feed_tables

__all__ = ["Base", "feed_tables"]
