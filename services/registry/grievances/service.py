"""What complaints do: open one (a resident's message, a village, an agency, a provider),
list and read them within the opener's sight, move them on with history, tell the resident
of each change and publish each on the registry's feed for the reports (no text, no person)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import or_, true
from sqlalchemy.orm import Session
from sqlmodel import col, select

from services.registry import access
from services.registry.follow_ups.rules import programme_date
from services.registry.grievances.models import (
    CLOSED,
    Grievance,
    GrievanceCreate,
    GrievanceDetail,
    GrievanceEvent,
    GrievanceEventPublic,
    GrievancePublic,
    GrievanceUpdate,
)
from services.registry.notifications import service as notifications
from services.registry.notifications.models import Notification
from services.registry.notifications.rules import new_code
from services.registry.residents.models import Resident
from services.registry.settings import RegistrySettings
from services.registry.tables import feed_tables
from shared.kit.database import table_of
from shared.kit.pagination import PageParams, paginate
from shared.kit.problems import Forbidden, NotFound, UnprocessableEntity
from shared.kit.time import as_utc, utcnow
from shared.kit.tokens import Principal
from shared.kit.versioned import record_row_change
from shared.programme.organisations import LOCAL_GOVERNMENT_TYPES, PROGRAMME_TYPES, PROVIDER_TYPES
from shared.programme.regions import district_of

ENTITY = "grievance"
RESIDENT = "resident"


def payload(grievance: Grievance) -> dict[str, Any]:
    """The feed's view of a complaint: codes, category, status and dates, never its text, its
    resident or who opened it."""
    return {
        "id": grievance.id,
        "version": grievance.version,
        "status": grievance.status,
        "category": grievance.category,
        "village_code": grievance.village_code,
        "district_code": grievance.district_code,
        "provider_org_id": grievance.provider_org_id,
        "due_on": grievance.due_on.isoformat(),
        "opened_at": as_utc(grievance.opened_at).isoformat(),
        "closed_at": as_utc(grievance.closed_at).isoformat() if grievance.closed_at else None,
    }


def _publish(session: Session, grievance: Grievance) -> None:
    record_row_change(session, feed_tables, ENTITY, grievance, grievance.status, payload(grievance))


def _history(
    session: Session,
    grievance: Grievance,
    from_status: str | None,
    note: str | None,
    by_type: str,
    by_org: str | None,
) -> None:
    session.add(
        GrievanceEvent(
            id=str(uuid.uuid4()),
            grievance_id=grievance.id,
            from_status=from_status,
            to_status=grievance.status,
            note=note,
            by_org=by_org,
            by_type=by_type,
            at=utcnow(),
        )
    )


def _tell_resident(
    session: Session, grievance: Grievance, template: str, settings: RegistrySettings
) -> None:
    if grievance.resident_id is None:
        return
    resident = session.get(Resident, grievance.resident_id)
    if resident is None:
        return
    notifications.queue(
        session,
        resident,
        template,
        {"date": grievance.due_on, "status": grievance.status, "code": grievance.code},
        source_key=f"grievance:{grievance.id}:{grievance.version}",
        language=settings.notify_language,
        grievance_id=grievance.id,
    )


def open_grievance(
    session: Session,
    *,
    category: str,
    village_code: str,
    description: str,
    settings: RegistrySettings,
    opened_by_type: str,
    opened_by_org: str | None = None,
    placement_id: str | None = None,
    provider_org_id: str | None = None,
    resident: Resident | None = None,
) -> Grievance:
    now = utcnow()
    days = settings.grievance_sla_days.get(category, max(settings.grievance_sla_days.values()))
    grievance = Grievance(
        id=str(uuid.uuid4()),
        code=new_code(),
        category=category,
        village_code=village_code,
        district_code=district_of(village_code) or village_code[:8],
        description=description,
        placement_id=placement_id,
        provider_org_id=provider_org_id,
        resident_id=resident.id if resident else None,
        opened_by_type=opened_by_type,
        opened_by_org=opened_by_org,
        due_on=programme_date(now) + timedelta(days=days),
        opened_at=now,
    )
    session.add(grievance)
    session.flush()
    _history(session, grievance, None, None, opened_by_type, opened_by_org)
    _publish(session, grievance)
    _tell_resident(session, grievance, "grievance_opened", settings)
    return grievance


def _placement_provider(session: Session, placement_id: str) -> str | None:
    """The provider of a placement, as matching's feed told the registry with its messages."""
    return session.scalars(
        select(Notification.provider_org_id).where(
            col(Notification.placement_id) == placement_id,
            col(Notification.provider_org_id).is_not(None),
        )
    ).first()


def create(
    session: Session, principal: Principal, body: GrievanceCreate, settings: RegistrySettings
) -> Grievance:
    provider: str | None = None
    if body.placement_id:
        provider = _placement_provider(session, body.placement_id)
    if principal.org_type in PROVIDER_TYPES:
        if not body.placement_id or provider != principal.org_id:
            raise UnprocessableEntity(
                "placement_id", "is not one of your organisation's placements"
            )
    elif principal.org_type in LOCAL_GOVERNMENT_TYPES:
        access.check_village_governed(principal, body.village_code)
    elif principal.org_type not in PROGRAMME_TYPES:
        raise Forbidden("this organisation does not open complaints")
    return open_grievance(
        session,
        category=body.category,
        village_code=body.village_code,
        description=body.description,
        settings=settings,
        opened_by_type=principal.org_type,
        opened_by_org=principal.org_id,
        placement_id=body.placement_id,
        provider_org_id=provider,
    )


def _sight(principal: Principal) -> Any:
    """Villages see their region's complaints, agencies all, providers those about their
    placements (and those they opened)."""
    if principal.org_type in PROGRAMME_TYPES:
        return true()
    if principal.org_type in LOCAL_GOVERNMENT_TYPES and principal.region:
        return access.in_region(col(Grievance.village_code), principal.region)
    if principal.org_type in PROVIDER_TYPES:
        return or_(
            col(Grievance.provider_org_id) == principal.org_id,
            col(Grievance.opened_by_org) == principal.org_id,
        )
    raise Forbidden("this organisation does not read complaints")


def list_grievances(
    session: Session, principal: Principal, params: PageParams, status: str | None
) -> tuple[list[GrievancePublic], str | None]:
    statement = select(Grievance).where(_sight(principal))
    if status:
        statement = statement.where(col(Grievance.status) == status)
    rows, cursor = paginate(session, statement, [table_of(Grievance).c.id], params)
    return [GrievancePublic.model_validate(row) for row in rows], cursor


def _visible(session: Session, principal: Principal, grievance_id: str) -> Grievance:
    grievance = session.scalars(
        select(Grievance).where(col(Grievance.id) == grievance_id, _sight(principal))
    ).first()
    if grievance is None:
        raise NotFound("no such complaint")
    return grievance


def detail(session: Session, principal: Principal, grievance_id: str) -> GrievanceDetail:
    grievance = _visible(session, principal, grievance_id)
    events = session.scalars(
        select(GrievanceEvent)
        .where(col(GrievanceEvent.grievance_id) == grievance.id)
        .order_by(col(GrievanceEvent.at), col(GrievanceEvent.id))
    )
    return GrievanceDetail(
        **GrievancePublic.model_validate(grievance).model_dump(),
        history=[GrievanceEventPublic.model_validate(e) for e in events],
    )


def update(
    session: Session,
    principal: Principal,
    grievance_id: str,
    body: GrievanceUpdate,
    settings: RegistrySettings,
) -> Grievance:
    """Programme organisations and the complaint's village move it on; the resident who
    opened it is told of each status change."""
    if principal.org_type not in PROGRAMME_TYPES | LOCAL_GOVERNMENT_TYPES:
        raise Forbidden("this organisation does not handle complaints")
    grievance = _visible(session, principal, grievance_id)
    if grievance.status in CLOSED and body.status not in (None, grievance.status):
        raise UnprocessableEntity("status", f"the complaint is {grievance.status} already")
    from_status = grievance.status
    if body.assigned_org_id is not None:
        grievance.assigned_org_id = body.assigned_org_id
    if body.resolution is not None:
        grievance.resolution = body.resolution
    changed = body.status is not None and body.status != from_status
    if changed and body.status is not None:
        grievance.status = body.status
        if body.status in CLOSED:
            grievance.closed_at = utcnow()
    grievance.version += 1
    session.flush()
    if changed:
        _history(
            session, grievance, from_status, body.resolution, principal.org_type, principal.org_id
        )
        _tell_resident(session, grievance, "grievance_updated", settings)
    _publish(session, grievance)
    return grievance
