"""Organisations, their client credentials and their staff users.

Secrets and passwords are stored only as argon2 hashes; a client secret is shown once, in the
response that issues it.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import field_validator
from sqlalchemy import Column, DateTime, UniqueConstraint
from sqlmodel import Field, SQLModel

from services.gateway.tables import Base
from shared.kit.time import UtcDateTime, utcnow
from shared.programme.organisations import OrgType


def new_id() -> str:
    return str(uuid.uuid4())


def _timestamp(nullable: bool = False) -> Column:
    return Column(DateTime(timezone=True), nullable=nullable)


class OrganisationBase(SQLModel):
    name: str = Field(min_length=2, max_length=200)
    type: OrgType = Field(max_length=40)
    region_code: str | None = Field(default=None, max_length=20)


class Organisation(Base, table=True):
    __tablename__ = "organisation"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    name: str = Field(max_length=200, unique=True)
    type: str = Field(max_length=40)
    region_code: str | None = Field(default=None, max_length=20)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_column=_timestamp())
    deactivated_at: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))


class OrganisationCreate(OrganisationBase):
    # A plain dict: SQLModel types ``model_config`` as its own TypedDict, to which pydantic's
    # ``ConfigDict`` does not assign; the literal is checked against that TypedDict instead.
    model_config = {"extra": "forbid"}

    @field_validator("name")
    @classmethod
    def _strip(cls, value: str) -> str:
        return " ".join(value.split())


class OrganisationPublic(OrganisationBase):
    id: str
    active: bool
    created_at: UtcDateTime
    deactivated_at: UtcDateTime | None


class ClientCredential(Base, table=True):
    __tablename__ = "client_credential"
    # One credential per organisation and Idempotency-Key: a retry, even a concurrent one,
    # can never leave a second live secret nobody holds.
    __table_args__ = (UniqueConstraint("organisation_id", "idempotency_key"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    organisation_id: str = Field(foreign_key="organisation.id", index=True, max_length=36)
    client_id: str = Field(max_length=100, unique=True)
    secret_hash: str = Field(max_length=200)
    label: str | None = Field(default=None, max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_timestamp())
    rotated_at: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))
    revoked_at: datetime | None = Field(default=None, sa_column=_timestamp(nullable=True))
    # The Idempotency-Key the credential was issued under and a hash of that request's body.
    idempotency_key: str | None = Field(default=None, max_length=100)
    request_fingerprint: str | None = Field(default=None, max_length=64)


class ClientCredentialCreate(SQLModel):
    model_config = {"extra": "forbid"}

    label: str | None = Field(default=None, max_length=100)


class ClientCredentialPublic(SQLModel):
    client_id: str
    organisation_id: str
    label: str | None
    created_at: UtcDateTime
    rotated_at: UtcDateTime | None
    revoked_at: UtcDateTime | None


class ClientCredentialIssued(ClientCredentialPublic):
    """The only response that carries the secret: store it now, it is never shown again."""

    client_secret: str


class StaffUser(Base, table=True):
    __tablename__ = "staff_user"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    organisation_id: str = Field(foreign_key="organisation.id", index=True, max_length=36)
    username: str = Field(max_length=100, unique=True)
    password_hash: str = Field(max_length=200)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_column=_timestamp())


class StaffUserCreate(SQLModel):
    model_config = {"extra": "forbid"}

    username: str = Field(min_length=3, max_length=100, regex=r"^[A-Za-z0-9._@-]+$")
    # NIST SP 800-63B: length over composition rules.
    password: str = Field(min_length=10, max_length=256)

    @field_validator("username")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()


class StaffUserPublic(SQLModel):
    id: str
    organisation_id: str
    username: str
    active: bool
    created_at: datetime
