"""A village's priority list in one transaction: ranks 1..n for the residents listed, none for
the others of the village, all or nothing.

Every listed id must be a resident of that village that may be ranked (not archived, not
merged, not erased); the first that is not stops the whole list with a 422 naming its position,
before anything is written. Only residents whose rank really changes get a new version, a
history entry and a change on the feed.
"""

from __future__ import annotations

from sqlalchemy.orm import Session
from sqlmodel import col, select

from services.registry import access
from services.registry.follow_ups.rules import programme_today
from services.registry.residents import service as residents
from services.registry.residents.models import Resident
from services.registry.settings import RegistrySettings
from services.registry.villages.models import (
    MeetingPublic,
    PriorityList,
    PriorityListIn,
    PriorityListPublic,
    RankedResident,
)
from shared.kit.problems import NotFound, UnprocessableEntity
from shared.kit.tokens import Principal
from shared.programme.regions import is_known


def _check_village(principal: Principal, village_code: str) -> None:
    if not is_known(village_code, "village"):
        raise UnprocessableEntity(
            ["path", "village_code"], "is not a village in the Kemendagri reference list"
        )
    if not access.governs(principal, village_code):
        raise NotFound("no such village in your region")


def _rankable(resident: Resident) -> bool:
    return (
        resident.status != "archived"
        and resident.merged_into is None
        and resident.erased_at is None
        and resident.held_nik is None
    )


def replace(
    session: Session,
    principal: Principal,
    village_code: str,
    data: PriorityListIn,
    settings: RegistrySettings,
) -> PriorityListPublic:
    _check_village(principal, village_code)
    if data.meeting.held_on > programme_today():
        raise UnprocessableEntity(
            ["body", "meeting", "held_on"], "is later than today in the programme's time zone"
        )
    # Locked: a concurrent single-resident edit waits, then sees the new ranks.
    village = {
        resident.id: resident
        for resident in session.scalars(
            select(Resident).where(col(Resident.village_code) == village_code).with_for_update()
        )
    }
    access.check_listed(
        data.resident_ids,
        village,
        absent="is not a resident of this village",
        usable=_rankable,
        unusable="cannot be ranked (archived, merged or erased)",
    )
    wanted = {resident_id: rank for rank, resident_id in enumerate(data.resident_ids, start=1)}
    moving = [r for r in village.values() if r.priority_rank != wanted.get(r.id)]
    # Free every rank that changes first, so no intermediate state breaks the village's
    # unique (village_code, priority_rank).
    for resident in moving:
        resident.priority_rank = None
    session.flush()
    for resident in moving:
        resident.priority_rank = wanted.get(resident.id)
        residents.changed(session, principal, resident, "priority", ["priority_rank"], settings)
    values = {
        **data.meeting.model_dump(),
        "ranked": len(wanted),
        "set_by_org": principal.org_id,
        "set_by": principal.subject,
        "set_at": residents.now_utc(),
    }
    meeting = session.get(PriorityList, village_code)
    if meeting is None:
        meeting = PriorityList(village_code=village_code, **values)
    else:
        for name, value in values.items():
            setattr(meeting, name, value)
    session.add(meeting)
    session.flush()
    return read(session, principal, village_code)


def read(session: Session, principal: Principal, village_code: str) -> PriorityListPublic:
    access.require_lister(principal)
    _check_village(principal, village_code)
    ranked = session.execute(
        select(col(Resident.id), col(Resident.priority_rank))
        .where(
            col(Resident.village_code) == village_code,
            col(Resident.priority_rank).is_not(None),
        )
        .order_by(col(Resident.priority_rank))
    ).all()
    meeting = session.get(PriorityList, village_code)
    return PriorityListPublic(
        village_code=village_code,
        items=[RankedResident(resident_id=rid, rank=rank) for rid, rank in ranked],
        meeting=MeetingPublic.model_validate(meeting, from_attributes=True) if meeting else None,
    )
