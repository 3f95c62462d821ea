"""Every table of the opportunities service, imported here so Alembic sees them all."""

from services.opportunities.catalogue.models import Opportunity
from services.opportunities.idempotency.models import IdempotencyRecord
from services.opportunities.tables import Base, feed_tables

__all__ = ["Base", "IdempotencyRecord", "Opportunity", "feed_tables"]
