"""Writing and reading the audit trail. Records are written in the request's transaction, so a
response that discloses personal data and its audit record commit together or not at all."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import insert
from sqlalchemy.orm import Session
from sqlmodel import col, select

from services.registry.audit.models import AuditPublic, AuditRecord
from shared.kit.database import table_of
from shared.kit.pagination import PageParams, paginate
from shared.kit.time import utcnow
from shared.kit.tokens import Principal


def record_access(
    session: Session,
    principal: Principal,
    resident_ids: Iterable[str],
    *,
    action: str,
    purpose: str | None = None,
    stated_purpose: str | None = None,
) -> None:
    """One audit row per resident shown, in a single multi-row insert. ``purpose`` is what the
    data was opened for; ``stated_purpose`` the caller's own words (X-Purpose), kept apart."""
    now = utcnow()
    rows = [
        {
            "occurred_at": now,
            "subject": principal.subject,
            "org_id": principal.org_id,
            "org_type": principal.org_type,
            "resident_id": resident_id,
            "purpose": (purpose or action)[:200],
            "action": action,
            "stated_purpose": stated_purpose[:200] if stated_purpose else None,
        }
        for resident_id in dict.fromkeys(resident_ids)
    ]
    if rows:
        session.execute(insert(AuditRecord), rows)


def list_records(
    session: Session, params: PageParams, *, resident_id: str | None, org_id: str | None
) -> tuple[list[AuditPublic], str | None]:
    statement = select(AuditRecord)
    if resident_id:
        statement = statement.where(col(AuditRecord.resident_id) == resident_id)
    if org_id:
        statement = statement.where(col(AuditRecord.org_id) == org_id)
    rows, cursor = paginate(session, statement, [table_of(AuditRecord).c.id], params)
    return [AuditPublic.model_validate(row) for row in rows], cursor
