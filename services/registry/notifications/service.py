"""What notifications do: queue a message in the event's own transaction, turn matching's
placement changes into messages, list a resident's messages, drain the outbox through the
sender with retries and backoff, and take the gateway's delivery receipts."""

from __future__ import annotations

import tomllib
import uuid
from collections.abc import Mapping, Sequence
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session
from sqlmodel import col, select

from services.registry import access
from services.registry.audit.service import record_access
from services.registry.follow_ups.rules import programme_date
from services.registry.notifications.models import Notification, NotificationPublic, ReceiptBody
from services.registry.notifications.rules import Templates, backoff_seconds, new_code, render
from services.registry.notifications.senders import Outcome, Outgoing
from services.registry.residents.models import Resident
from services.registry.settings import RegistrySettings
from shared.kit.database import Database, table_of
from shared.kit.feed import Change
from shared.kit.pagination import PageParams, paginate
from shared.kit.problems import NotFound
from shared.kit.time import parse_utc, utcnow
from shared.kit.tokens import Principal
from shared.programme.organisations import LOCAL_GOVERNMENT_TYPES, PROGRAMME_TYPES

TEMPLATES_FILE = Path(__file__).with_name("templates.toml")
CAPITAL_KIND = "business_capital"
# A claimed message is left alone this long by other senders, then taken over (a crash).
CLAIM_SECONDS = 300


@cache
def templates() -> Templates:
    with TEMPLATES_FILE.open("rb") as file:
        return tomllib.load(file)


def queue(
    session: Session,
    resident: Resident,
    template: str,
    values: Mapping[str, Any],
    *,
    source_key: str,
    language: str,
    placement_id: str | None = None,
    provider_org_id: str | None = None,
    grievance_id: str | None = None,
    with_code: bool = False,
) -> Notification | None:
    """A message to the resident in the caller's transaction; the same ``source_key`` twice
    writes it once (None the second time). A resident without a number gets it ``failed``,
    so the village sees that nobody was told."""
    existing = session.scalars(
        select(Notification).where(col(Notification.source_key) == source_key)
    ).first()
    if existing is not None:
        return None
    code = new_code() if with_code else None
    now = utcnow()
    notification = Notification(
        id=str(uuid.uuid4()),
        resident_id=resident.id,
        template=template,
        language=language,
        text=render(templates(), template, language, {"code": code or "", **values}),
        to_phone=resident.phone,
        placement_id=placement_id,
        provider_org_id=provider_org_id,
        grievance_id=grievance_id,
        reply_code=code,
        source_key=source_key,
        status="queued" if resident.phone else "failed",
        last_error=None if resident.phone else "no phone number",
        next_attempt_at=now,
        created_at=now,
    )
    session.add(notification)
    session.flush()
    return notification


def _placement_template(event: str, kind: str) -> str | None:
    if event == "started" and kind == CAPITAL_KIND:
        return "capital_paid"
    return {
        "offered": "placement_offered",
        "accepted": "placement_accepted",
        "declined": "placement_declined",
        "started": "placement_started",
        "completed": "placement_completed",
    }.get(event)


_EVENT_TIME = {"started": "started_at", "completed": "completed_at"}


def apply_placement_changes(
    session: Session, changes: Sequence[Change], settings: RegistrySettings
) -> None:
    """Matching's placement feed, applied in the consumer's transaction (the cursor moves with
    the messages): each change a resident should hear of becomes one message."""
    for change in changes:
        if change.entity != "placement":
            continue
        payload = change.payload
        kind = str(payload.get("kind") or "")
        template = _placement_template(change.event, kind)
        if template is None:
            continue
        resident = session.get(Resident, str(payload.get("resident_id")))
        if resident is None or resident.erased_at is not None:
            continue  # unknown here, or erased: nobody to tell
        at = parse_utc(payload.get(_EVENT_TIME.get(change.event, ""))) or change.occurred_at
        queue(
            session,
            resident,
            template,
            {"kind": kind, "date": programme_date(at)},
            source_key=f"placement:{change.entity_id}:{change.version}",
            language=settings.notify_language,
            placement_id=change.entity_id,
            provider_org_id=payload.get("provider_org_id"),
            with_code=change.event == "offered",
        )


def list_for_resident(
    session: Session, principal: Principal, resident_id: str, params: PageParams
) -> tuple[list[NotificationPublic], str | None]:
    """Programme organisations and the resident's own village: anyone else, and any resident
    they cannot see, is the same 404. Reading them is audited, as any read of a resident."""
    if principal.org_type not in PROGRAMME_TYPES | LOCAL_GOVERNMENT_TYPES:
        raise NotFound("no such resident")
    access.get_visible(session, principal, resident_id)
    statement = select(Notification).where(col(Notification.resident_id) == resident_id)
    rows, cursor = paginate(session, statement, [table_of(Notification).c.id], params)
    record_access(session, principal, [resident_id], action="notification.read")
    return [NotificationPublic.model_validate(row) for row in rows], cursor


def claim_due(db: Database, limit: int) -> list[Outgoing]:
    """Queued messages whose time has come, claimed for ``CLAIM_SECONDS`` in one short
    transaction, so the send itself holds no transaction open."""
    now = utcnow()
    with db.session() as session:
        rows = list(
            session.scalars(
                select(Notification)
                .where(
                    col(Notification.status) == "queued",
                    col(Notification.next_attempt_at) <= now,
                )
                .order_by(col(Notification.next_attempt_at))
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        claimed: list[Outgoing] = []
        for row in rows:
            row.next_attempt_at = now + timedelta(seconds=CLAIM_SECONDS)
            claimed.append(Outgoing(row.id, row.to_phone or "", row.text, row.template))
    return claimed


def record_outcome(
    db: Database, message_id: str, outcome: Outcome, settings: RegistrySettings
) -> None:
    with db.session() as session:
        row = session.get(Notification, message_id, with_for_update=True)
        if row is None or row.status != "queued":
            return
        now = utcnow()
        row.attempts += 1
        if outcome.sent:
            row.status, row.sent_at, row.last_error = "sent", now, None
            row.gateway_message_id = outcome.gateway_message_id
        elif outcome.retry and row.attempts < settings.notify_max_attempts:
            row.last_error = outcome.error
            wait = backoff_seconds(
                row.attempts, settings.notify_backoff_seconds, settings.notify_backoff_max_seconds
            )
            row.next_attempt_at = now + timedelta(seconds=wait)
        else:
            row.status, row.last_error = "failed", outcome.error


def take_receipt(db: Database, receipt: ReceiptBody) -> bool:
    with db.session() as session:
        return apply_receipt(session, receipt.message_id, receipt.status)


def apply_receipt(session: Session, message_id: str, status: str) -> bool:
    """The gateway's word that a message was delivered (or finally failed); a receipt for a
    message not sent yet, or one repeated, changes nothing. False: no such message."""
    row = session.get(Notification, message_id)
    if row is None:
        return False
    if row.status == "sent":
        values: dict[str, Any] = {"status": status}
        if status == "delivered":
            values["delivered_at"] = utcnow()
        session.execute(
            update(Notification)
            .where(col(Notification.id) == message_id, col(Notification.status) == "sent")
            .values(**values)
        )
    return True


def offer_for_reply(session: Session, code: str) -> Notification | None:
    return session.scalars(
        select(Notification).where(
            col(Notification.reply_code) == code,
            col(Notification.template) == "placement_offered",
        )
    ).first()
