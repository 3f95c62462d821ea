"""The audit trail: one record per resident whose personal data left the registry."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict
from sqlalchemy import BigInteger, Column, DateTime, Index, Integer
from sqlmodel import Field

from services.registry.tables import Base
from shared.kit.time import UtcDateTime


class AuditRecord(Base, table=True):
    __tablename__ = "audit_record"
    __table_args__ = (
        Index("ix_audit_record_resident", "resident_id", "id"),
        Index("ix_audit_record_org", "org_id", "id"),
    )

    id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    )
    occurred_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    subject: str = Field(max_length=120)
    org_id: str = Field(max_length=64)
    org_type: str = Field(max_length=30)
    resident_id: str = Field(max_length=36)
    # What the data was shown for: for a provider the purpose of its disclosure, for others
    # the caller's X-Purpose, or the action ("resident.read").
    purpose: str = Field(max_length=200)
    action: str = Field(max_length=40)
    # The caller's own X-Purpose text, kept apart: a provider states it but does not set
    # ``purpose``.
    stated_purpose: str | None = Field(default=None, max_length=200)


class AuditPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    occurred_at: UtcDateTime
    subject: str
    org_id: str
    org_type: str
    resident_id: str
    purpose: str
    action: str
    stated_purpose: str | None
