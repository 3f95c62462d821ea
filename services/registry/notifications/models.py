"""Notifications: the outbox of messages to residents, the replies they send back, and the
API's shapes. The registry alone holds phone numbers, so the outbox lives here."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints
from pydantic import Field as PydanticField
from sqlalchemy import Column, DateTime
from sqlmodel import Field

from services.registry.tables import Base, ResidentRecord
from shared.kit.time import UtcDateTime

NotificationStatus = Literal["queued", "sent", "delivered", "failed"]


class Notification(ResidentRecord, table=True):
    """One message to one resident, written in the transaction of the event that causes it
    (a placement change applied from matching's feed, a complaint's status change)."""

    __tablename__ = "notification"

    template: str = Field(max_length=40)
    language: str = Field(max_length=5)
    # Rendered once, at the event: what the resident reads, never a NIK or family card number.
    text: str = Field(max_length=480)
    # The number the message went to; a reply is matched against it, not the resident's
    # current number, so a number changed since cannot answer an old offer.
    to_phone: str | None = Field(default=None, max_length=16)
    placement_id: str | None = Field(default=None, max_length=36, index=True)
    # The placement's provider, from matching's feed: a complaint about the placement is shown
    # to it.
    provider_org_id: str | None = Field(default=None, max_length=64)
    grievance_id: str | None = Field(default=None, max_length=36)
    # The short code of an offer the resident answers with ``YA <code>`` or ``TIDAK <code>``.
    reply_code: str | None = Field(default=None, max_length=12, unique=True)
    # Where the event came from (feed entity, id and version): a change applied twice over
    # the feed writes one message.
    source_key: str = Field(max_length=120, unique=True)
    status: str = Field(default="queued", max_length=12, index=True)
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    last_error: str | None = Field(default=None, max_length=120)
    gateway_message_id: str | None = Field(default=None, max_length=120)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    sent_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    delivered_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))


class InboundMessage(Base, table=True):
    """A message the SMS gateway passed on, by its ``message_id``: a replay is recognised and
    ignored. The text is not kept (a complaint keeps its own); only what came of it."""

    __tablename__ = "inbound_message"

    message_id: str = Field(primary_key=True, max_length=120)
    outcome: str = Field(max_length=30)
    received_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class NotificationPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    resident_id: str
    template: str
    language: str
    text: str
    status: NotificationStatus
    placement_id: str | None
    attempts: int
    created_at: UtcDateTime
    sent_at: UtcDateTime | None
    delivered_at: UtcDateTime | None


MessageId = Annotated[str, StringConstraints(min_length=1, max_length=120, strip_whitespace=True)]


class InboundBody(BaseModel):
    """What the SMS gateway posts for a resident's message."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    sender: str = PydanticField(alias="from", min_length=6, max_length=20)
    text: str = PydanticField(max_length=1600)
    message_id: MessageId


class InboundReply(BaseModel):
    """What the gateway sends back to the resident (``reply``) and what came of the message."""

    outcome: str
    reply: str | None


class ReceiptBody(BaseModel):
    """A delivery receipt from the SMS gateway: the message it delivered, or failed to."""

    message_id: MessageId
    status: Literal["delivered", "failed"]
