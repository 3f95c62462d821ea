"""Every table of the reporting service, imported here so Alembic sees them all."""

from services.reporting.feed.models import StatusEvent
from services.reporting.readmodel.models import (
    EnrolmentFact,
    FollowUpFact,
    GrievanceFact,
    OpportunityFact,
    PlacementFact,
    ResidentFact,
)
from services.reporting.stages.models import ProgramStage, ProgramTarget
from services.reporting.tables import Base, feed_tables

__all__ = [
    "Base",
    "EnrolmentFact",
    "FollowUpFact",
    "GrievanceFact",
    "OpportunityFact",
    "PlacementFact",
    "ProgramStage",
    "ProgramTarget",
    "ResidentFact",
    "StatusEvent",
    "feed_tables",
]
