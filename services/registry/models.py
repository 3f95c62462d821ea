"""Every table of the registry service, imported here so Alembic sees them all."""

from services.registry.audit.models import AuditRecord
from services.registry.cohorts.models import Cohort, Enrolment
from services.registry.deciles.models import ResidentDecile
from services.registry.disclosures.models import Disclosure
from services.registry.duplicates.models import DuplicateDismissal, NikReview
from services.registry.follow_ups.models import FollowUp, FollowUpDue
from services.registry.graduation.models import Graduation
from services.registry.grievances.models import Grievance, GrievanceEvent
from services.registry.imports.models import ImportJob, ImportRejection
from services.registry.notifications.models import InboundMessage, Notification
from services.registry.residents.models import Resident, ResidentChange
from services.registry.tables import Base, feed_tables
from services.registry.villages.models import PriorityList

__all__ = [
    "AuditRecord",
    "Base",
    "Cohort",
    "Disclosure",
    "DuplicateDismissal",
    "Enrolment",
    "FollowUp",
    "FollowUpDue",
    "Graduation",
    "Grievance",
    "GrievanceEvent",
    "ImportJob",
    "ImportRejection",
    "InboundMessage",
    "NikReview",
    "Notification",
    "PriorityList",
    "Resident",
    "ResidentChange",
    "ResidentDecile",
    "feed_tables",
]
