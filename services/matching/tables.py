"""The base of this service's tables: its own metadata, so its migrations see only them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Column, DateTime
from sqlmodel import SQLModel

from shared.kit.database import new_registry
from shared.kit.feed import FeedTables


class Base(SQLModel, registry=new_registry()):
    pass


feed_tables = FeedTables(Base.metadata, producer=True, consumer=True)


# SQLModel maps a datetime to a naive DateTime and has no JSON type of its own: the tables of
# every domain declare these two kinds of column the same way.
def ts_column(*, nullable: bool = True, index: bool = False) -> Any:
    return Column(DateTime(timezone=True), nullable=nullable, index=index)


def json_column(*, nullable: bool = False) -> Any:
    return Column(JSON, nullable=nullable)
