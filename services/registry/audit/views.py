"""``GET /v1/audit`` (admin): who saw whose personal data, when and why."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.registry.audit import service
from services.registry.audit.models import AuditPublic
from services.registry.deps import AuditReader
from shared.kit.database import SessionDep
from shared.kit.pagination import Page, PageParamsDep

router = APIRouter(prefix="/v1/audit", tags=["audit"])


@router.get("", summary="Audit trail of personal data disclosures")
def list_audit(
    session: SessionDep,
    _principal: AuditReader,
    page: PageParamsDep,
    resident_id: Annotated[str | None, Query(max_length=36)] = None,
    org_id: Annotated[str | None, Query(max_length=64)] = None,
) -> Page[AuditPublic]:
    records, cursor = service.list_records(session, page, resident_id=resident_id, org_id=org_id)
    return Page(items=records, next_cursor=cursor)
