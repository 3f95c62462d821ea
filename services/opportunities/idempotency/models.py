"""The first response to each (organisation, Idempotency-Key), kept to replay to retries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Integer, String
from sqlmodel import Field

from services.opportunities.tables import Base


class IdempotencyRecord(Base, table=True):
    __tablename__ = "idempotency_key"

    # The primary key is what makes 50 parallel retries create one opportunity: only one
    # transaction can insert the pair, the others fail and replay its response.
    org_id: str = Field(sa_column=Column(String(64), primary_key=True))
    key: str = Field(sa_column=Column(String(255), primary_key=True))
    endpoint: str = Field(sa_column=Column(String(100), nullable=False))
    request_hash: str = Field(sa_column=Column(String(64), nullable=False))
    status_code: int = Field(sa_column=Column(Integer, nullable=False))
    response: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(
        sa_column=Column(DateTime(timezone=True), nullable=False, index=True)
    )
