"""``GET /v1/audit`` (admin): who saw whose personal data, when and why."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.registry.audit import service
from services.registry.audit.models import AuditPublic
from shared.kit.auth import require_scopes
from shared.kit.database import SessionDep
from shared.kit.pagination import Page, PageParamsDep
from shared.kit.time import as_utc
from shared.programme.scopes import AUDIT_READ

router = APIRouter(prefix="/v1/audit", tags=["audit"])


@router.get("", summary="Audit trail of personal data disclosures")
def list_audit(
    session: SessionDep,
    _principal: require_scopes(AUDIT_READ),  # type: ignore[valid-type]
    page: PageParamsDep,
    resident_id: Annotated[str | None, Query(max_length=36)] = None,
    org_id: Annotated[str | None, Query(max_length=64)] = None,
) -> Page[AuditPublic]:
    rows, cursor = service.list_records(session, page, resident_id=resident_id, org_id=org_id)
    return Page(
        items=[
            AuditPublic(
                id=row.id,
                occurred_at=as_utc(row.occurred_at),
                subject=row.subject,
                org_id=row.org_id,
                org_type=row.org_type,
                resident_id=row.resident_id,
                purpose=row.purpose,
                action=row.action,
                stated_purpose=row.stated_purpose,
            )
            for row in rows
        ],
        next_cursor=cursor,
    )
