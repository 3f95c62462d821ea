"""Every table of the opportunities service, imported here so Alembic sees them all."""

from services.opportunities.tables import Base, feed_tables

__all__ = ["Base", "feed_tables"]
