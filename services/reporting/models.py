"""Every table of the reporting service, imported here so Alembic sees them all."""

from services.reporting.tables import Base, feed_tables

__all__ = ["Base", "feed_tables"]
