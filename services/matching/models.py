"""Every table of the matching service, imported here so Alembic sees them all."""

from services.matching.placements.models import (
    ActiveKind,
    CapitalGrant,
    PendingDisclosure,
    Placement,
    PlacementTransition,
)
from services.matching.readmodel.models import OpportunityView, ResidentView
from services.matching.runs.models import Proposal, Run
from services.matching.tables import Base, feed_tables

__all__ = [
    "ActiveKind",
    "Base",
    "CapitalGrant",
    "OpportunityView",
    "PendingDisclosure",
    "Placement",
    "PlacementTransition",
    "Proposal",
    "ResidentView",
    "Run",
    "feed_tables",
]
