"""Every table of the matching service, imported here so Alembic sees them all."""

from services.matching.tables import Base, feed_tables

__all__ = ["Base", "feed_tables"]
