"""The base of this service's tables: its own metadata, so its migrations see only them."""

from __future__ import annotations

from sqlmodel import SQLModel

from shared.kit.database import new_registry
from shared.kit.feed import FeedTables


class Base(SQLModel, registry=new_registry()):
    pass


# A consumer too: of matching's placement feed (the visit plan, cohort enrolment and
# residents' notifications; follow_ups/tasks.py).
feed_tables = FeedTables(Base.metadata, producer=True, consumer=True)
