"""The visit plan: what falls due when a placement starts, and what a recorded visit answers.

Fed by matching's placement feed (``tasks.py``): on ``started`` the plan writes one ``visit``
entry per ``REGISTRY_FOLLOW_UP_PLAN_DAYS`` offset from the start, assigned to the organisation
that placed the resident, and for paid kinds one ``wage_confirmation`` per
``REGISTRY_WAGE_CONFIRMATION_DAYS`` offset, assigned to the provider; on ``dropped`` the open
entries are cancelled. On ``accepted`` a resident in no cohort is enrolled in
``REGISTRY_AUTO_ENROL_COHORT`` when it is set. Each change is applied idempotently (one entry
per placement, kind and offset), so a change read twice writes nothing twice.

A recorded visit closes the earliest open entry it answers: of the resident (and of the
placement, when the visit names one), due no later than ``REGISTRY_FOLLOW_UP_EARLY_DAYS`` after
the visit's date, assigned to the recorder's organisation unless the recorder is the
secretariat or an agency; a wage confirmation only by income more than the resident's word.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.orm import Session
from sqlmodel import col, select

from services.registry import access
from services.registry.cohorts import service as cohorts
from services.registry.follow_ups.models import SELF_REPORT, FollowUp, FollowUpDue
from services.registry.follow_ups.rules import programme_date, programme_today
from services.registry.residents import service as residents
from services.registry.residents.models import Resident
from services.registry.settings import RegistrySettings
from shared.kit.database import table_of
from shared.kit.feed import Change
from shared.kit.pagination import PageParams, paginate
from shared.kit.problems import UnprocessableEntity
from shared.kit.time import parse_utc, utcnow
from shared.kit.tokens import Principal
from shared.programme.organisations import PROGRAMME_TYPES
from shared.programme.regions import is_known


def _entries(change: Change, started_on: date, settings: RegistrySettings) -> list[FollowUpDue]:
    payload = change.payload
    placed_by = payload.get("placed_by_org_id") or payload["provider_org_id"]
    planned = [("visit", days, placed_by) for days in settings.follow_up_plan_days]
    if payload.get("kind") in settings.wage_kinds:
        provider = payload["provider_org_id"]
        planned += [
            ("wage_confirmation", days, provider) for days in settings.wage_confirmation_days
        ]
    now = residents.now_utc()
    return [
        FollowUpDue(
            id=residents.new_id(),
            resident_id=payload["resident_id"],
            placement_id=change.entity_id,
            kind=kind,
            offset_days=days,
            due_on=started_on + timedelta(days=days),
            assigned_org_id=org,
            created_at=now,
        )
        for kind, days, org in planned
    ]


def apply_placement_changes(
    session: Session, changes: list[Change], settings: RegistrySettings
) -> None:
    """The applier of matching's placement feed (run inside the consumer's transaction)."""
    for change in changes:
        if change.entity != "placement":
            continue
        status = change.payload.get("status")
        resident_id = str(change.payload.get("resident_id"))
        if session.get(Resident, resident_id) is None:
            continue  # erased and gone, or never ours: nothing to plan
        if status == "accepted" and change.payload.get("accepted_at"):
            accepted_on = programme_date(parse_utc(change.payload["accepted_at"]) or utcnow())
            cohorts.enrol_on_placement(session, resident_id, accepted_on, settings)
        elif status in ("started", "completed") and change.payload.get("started_at"):
            started_on = programme_date(parse_utc(change.payload["started_at"]) or utcnow())
            planned = set(
                session.execute(
                    select(col(FollowUpDue.kind), col(FollowUpDue.offset_days)).where(
                        col(FollowUpDue.placement_id) == change.entity_id
                    )
                ).all()
            )
            for entry in _entries(change, started_on, settings):
                if (entry.kind, entry.offset_days) not in planned:
                    session.add(entry)
        elif status == "dropped":
            for entry in session.scalars(
                select(FollowUpDue).where(
                    col(FollowUpDue.placement_id) == change.entity_id,
                    col(FollowUpDue.status) == "open",
                )
            ):
                entry.status = "cancelled"
        session.flush()


def close_answered(
    session: Session, principal: Principal, visit: FollowUp, settings: RegistrySettings
) -> FollowUpDue | None:
    """Close the earliest open entry this new visit answers, if any."""
    statement = select(FollowUpDue).where(
        col(FollowUpDue.resident_id) == visit.resident_id,
        col(FollowUpDue.status) == "open",
        col(FollowUpDue.due_on) <= visit.visited_on + timedelta(days=settings.follow_up_early_days),
    )
    if visit.placement_id is not None:
        statement = statement.where(col(FollowUpDue.placement_id) == visit.placement_id)
    if principal.org_type not in PROGRAMME_TYPES:
        statement = statement.where(col(FollowUpDue.assigned_org_id) == principal.org_id)
    if visit.income_source == SELF_REPORT:
        statement = statement.where(col(FollowUpDue.kind) == "visit")
    entry = session.scalars(
        statement.order_by(col(FollowUpDue.due_on), col(FollowUpDue.kind).desc()).limit(1)
    ).first()
    if entry is not None:
        entry.status = "done"
        entry.follow_up_id = visit.id
        session.add(entry)
    return entry


def list_due(
    session: Session,
    principal: Principal,
    params: PageParams,
    *,
    overdue: bool | None,
    district_code: str | None,
    resident_id: str | None,
    include_done: bool = False,
) -> tuple[list[FollowUpDue], str | None]:
    """What falls due, earliest first, scoped like residents: a provider sees the entries
    assigned to it; a local government those of its region; agencies all."""
    statement = select(FollowUpDue).join(Resident, col(Resident.id) == col(FollowUpDue.resident_id))
    if access.is_provider(principal):
        statement = statement.where(col(FollowUpDue.assigned_org_id) == principal.org_id)
    else:
        statement = statement.where(access.region_filter(principal))
    if not include_done:
        statement = statement.where(col(FollowUpDue.status) == "open")
    today = programme_today()
    if overdue is True:
        statement = statement.where(col(FollowUpDue.due_on) < today)
    elif overdue is False:
        statement = statement.where(col(FollowUpDue.due_on) >= today)
    if district_code is not None:
        if not is_known(district_code, "district"):
            raise UnprocessableEntity(["query", "district_code"], "is not a known district code")
        statement = statement.where(col(Resident.district_code) == district_code)
    if resident_id is not None:
        statement = statement.where(col(FollowUpDue.resident_id) == resident_id)
    table = table_of(FollowUpDue)
    return paginate(session, statement, [table.c.due_on, table.c.id], params)
