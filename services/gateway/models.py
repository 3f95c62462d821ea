"""Every table of the gateway, imported here so Alembic sees them all."""

from services.gateway.organisations.models import ClientCredential, Organisation, StaffUser
from services.gateway.tables import Base

__all__ = ["Base", "ClientCredential", "Organisation", "StaffUser"]
