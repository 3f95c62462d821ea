"""The base of the gateway's tables: its own metadata, so its migrations see only them."""

from __future__ import annotations

from sqlmodel import SQLModel

from shared.kit.database import new_registry


class Base(SQLModel, registry=new_registry()):
    pass
