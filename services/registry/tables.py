"""The base of this service's tables: its own metadata, so its migrations see only them."""

from __future__ import annotations

from sqlmodel import Field, SQLModel

from shared.kit.database import new_registry
from shared.kit.feed import FeedTables


class Base(SQLModel, registry=new_registry()):
    pass


class ResidentRecord(Base):
    """The columns a table of records about one resident starts with: the record's own id and
    the resident's, indexed (such records are read resident by resident). Not a table."""

    id: str = Field(primary_key=True, max_length=36)
    resident_id: str = Field(max_length=36, index=True)


# A consumer too: of matching's placement feed (the visit plan, cohort enrolment and
# residents' notifications; follow_ups/tasks.py).
feed_tables = FeedTables(Base.metadata, producer=True, consumer=True)
