"""Apply the registry, catalogue and matching feeds to the read model.

Each applier runs inside the consumer's transaction (``shared.kit.feed.FeedConsumer``): the batch
and the new cursor commit together. A change is applied only when its ``version`` is newer than
the row held, so a change seen twice is harmless. Status events for regional agencies are
written here, on the transition (``verified_at`` going from empty to set), so each is written
once however many snapshots repeat it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import select, text
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session
from sqlmodel import col

from services.reporting.feed.models import StatusEvent
from services.reporting.readmodel.models import (
    EnrolmentFact,
    FollowUpFact,
    GrievanceFact,
    OpportunityFact,
    PlacementFact,
    ResidentFact,
)
from shared.kit.feed import Change
from shared.kit.time import parse_utc
from shared.programme.placements import PLACEMENT_TIMES
from shared.programme.regions import district_of, regency_of

Row = TypeVar("Row", ResidentFact, OpportunityFact, PlacementFact, GrievanceFact)
logger = logging.getLogger("sinergi.reporting.readmodel")

AGE_BANDS = ((15, 24), (25, 34), (35, 44), (45, 54), (55, 64))
OPEN_STATUSES = frozenset({"open", "published", "active"})
# Serialises the transactions that append status events on PostgreSQL, so their sequence
# numbers commit in order and a feed reader that has seen seq 11 never misses seq 10.
STATUS_EVENT_LOCK = 0x53_49_4E_45_52_47_49  # "SINERGI"


def age_band(age: int | None) -> str:
    if age is None:
        return "unknown"
    for low, high in AGE_BANDS:
        if low <= age <= high:
            return f"{low}-{high}"
    return "under-15" if age < 15 else "65+"


def _held(
    session: Session, model: type[Row], changes: Iterable[Change], entity: str
) -> tuple[list[Change], dict[str, Row]]:
    """The changes about ``entity``, and the rows of ``model`` they name that are held already."""
    mine = [change for change in changes if change.entity == entity]
    ids = list({change.entity_id for change in mine})
    if not ids:
        return mine, {}
    rows = session.execute(select(model).where(col(model.id).in_(ids))).scalars()
    return mine, {row.id: row for row in rows}


def _was(held: Mapping[str, Any], change: Change, events: Mapping[str, str]) -> dict[str, Any]:
    """The event timestamps of the row before ``change``, to tell which it sets first."""
    before = held.get(change.entity_id)
    return {name: getattr(before, name) for name in events} if before else {}


def _newer(held: Mapping[str, Any], change: Change) -> bool:
    row = held.get(change.entity_id)
    return row is None or change.version > row.version


def _each(
    session: Session,
    model: type[Row],
    held: dict[str, Row],
    changes: list[Change],
    one: Callable[[Change], None],
) -> None:
    """Apply each newer change in a savepoint. A change whose payload breaks the contract is
    logged (ids only) and skipped: stopping the feed on it would freeze every report."""
    for change in changes:
        if not _newer(held, change):
            continue
        try:
            with session.begin_nested():
                one(change)
        except (KeyError, TypeError, ValueError, DataError, IntegrityError) as exc:
            logger.warning(
                "feed change skipped: %s %s %s version %s (%s)",
                change.entity,
                change.entity_id,
                change.event,
                change.version,
                type(exc).__name__,
            )
            held.pop(change.entity_id, None)
            row = session.get(model, change.entity_id)
            if row is not None:
                held[change.entity_id] = row


def _lock_status_events(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        # Never wait forever: a batch that cannot get the lock fails, rolls back and is retried.
        session.execute(text("SELECT set_config('lock_timeout', '15s', true)"))
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": STATUS_EVENT_LOCK})


def _record_transitions(
    session: Session,
    row: ResidentFact | PlacementFact,
    was: Mapping[str, datetime | None],
    events: Mapping[str, str],
    resident_id: str,
    kind: str | None = None,
) -> None:
    """A status event for each of ``events`` (timestamp column -> event) whose timestamp
    went from empty to set in this change: written once, however often a snapshot repeats."""
    for column, event in events.items():
        occurred_at = getattr(row, column)
        if occurred_at is not None and was.get(column) is None:
            session.add(
                StatusEvent(
                    event=event,
                    resident_id=resident_id,
                    village_code=row.village_code,
                    district_code=row.district_code,
                    kind=kind,
                    occurred_at=occurred_at,
                )
            )


def _upsert(
    session: Session, model: type[Row], held: dict[str, Row], change: Change, values: dict[str, Any]
) -> Row:
    """The row of ``change.entity_id`` with ``values`` set: a new row, or the held one updated."""
    row = held.get(change.entity_id)
    if row is None:
        row = model(id=change.entity_id, **values)
        session.add(row)
        held[change.entity_id] = row
    else:
        for name, value in values.items():
            setattr(row, name, value)
    return row


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


def _day(value: Any) -> date | None:
    return None if value is None else date.fromisoformat(str(value))


# The status events each fact writes: the timestamp whose first setting is the event.
RESIDENT_EVENTS = {"verified_at": "verified", "independent_at": "independent"}
PLACEMENT_EVENTS = {"accepted_at": "placed", "completed_at": "completed"}

# Resident column <- (payload key, conversion).
RESIDENT_FIELDS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "village_code": ("village_code", _text),
    "district_code": ("district_code", _text),
    "regency_code": ("regency_code", _text),
    "sex": ("sex", _text),
    "age": ("age", _int_or_none),
    "education_level": ("education_level", _text),
    "welfare_decile": ("welfare_decile", _int_or_none),
    "decile_edition": ("decile_edition", _text),
    "decile_effective_on": ("decile_effective_on", _day),
    "has_disability": ("disability", bool),
    "productive_age": ("productive_age", bool),
    "in_target_group": ("in_target_group", bool),
    "status": ("status", _text),
    "priority_rank": ("priority_rank", _int_or_none),
    "registered_at": ("registered_at", parse_utc),
    "verified_at": ("verified_at", parse_utc),
    "independent_at": ("independent_at", parse_utc),
}


def apply_registry(session: Session, changes: list[Change]) -> None:
    residents, held = _held(session, ResidentFact, changes, "resident")
    _lock_status_events(session)

    def one(change: Change) -> None:
        payload = change.payload
        before = held.get(change.entity_id)
        was = _was(held, change, RESIDENT_EVENTS)
        # A field the snapshot leaves out keeps its value: an `erased` snapshot carries only
        # the aggregate fields, and must not move the resident's registration date.
        values: dict[str, Any] = {
            name: convert(payload[key])
            for name, (key, convert) in RESIDENT_FIELDS.items()
            if key in payload
        }
        for required in ("registered_at", "status"):
            if values.get(required) is None:
                values.pop(required, None)
        values["version"] = change.version
        if before is None:
            values.setdefault("registered_at", change.occurred_at)
            values.setdefault("status", change.event)
        village = str(values.get("village_code") or (before.village_code if before else ""))
        if not village:
            raise KeyError("village_code")
        values["village_code"] = village
        values["district_code"] = values.get("district_code") or district_of(village) or village
        values["regency_code"] = values.get("regency_code") or regency_of(village) or village
        if "age" in values:
            values["age_band"] = age_band(values["age"])
        elif before is None:
            values["age_band"] = age_band(None)
        if change.event == "merged":
            values["removed_at"] = change.occurred_at
            values["merged_into"] = payload.get("merged_into")
        row = _upsert(session, ResidentFact, held, change, values)
        _record_transitions(session, row, was, RESIDENT_EVENTS, row.id)
        follow_up = payload.get("follow_up")
        if change.event == "follow_up" and isinstance(follow_up, Mapping):
            _record_follow_up(session, row, follow_up)
        cohort = payload.get("cohort")
        if change.event == "enrolled" and isinstance(cohort, Mapping):
            _record_enrolment(session, row, cohort, change.occurred_at)
        session.flush()

    _each(session, ResidentFact, held, residents, one)
    _apply_grievances(session, changes)


def _apply_grievances(session: Session, changes: list[Change]) -> None:
    """The registry's complaints: a snapshot per change, newer versions only."""
    grievances, held = _held(session, GrievanceFact, changes, "grievance")

    def one(change: Change) -> None:
        payload = change.payload
        village = str(payload["village_code"])
        opened_at = parse_utc(payload["opened_at"])
        if opened_at is None:
            raise KeyError("opened_at")
        values = {
            "version": change.version,
            "category": str(payload["category"]),
            "status": str(payload["status"]),
            "village_code": village,
            "district_code": _text(payload.get("district_code")) or district_of(village) or village,
            "provider_org_id": _text(payload.get("provider_org_id")),
            "due_on": date.fromisoformat(str(payload["due_on"])),
            "opened_at": opened_at,
            "closed_at": parse_utc(payload.get("closed_at")),
        }
        _upsert(session, GrievanceFact, held, change, values)
        session.flush()

    _each(session, GrievanceFact, held, grievances, one)


def _record_follow_up(
    session: Session, resident: ResidentFact, follow_up: Mapping[str, Any]
) -> None:
    follow_up_id = str(follow_up["id"])
    if session.get(FollowUpFact, follow_up_id) is not None:
        return
    visited = follow_up.get("visited_on")
    session.add(
        FollowUpFact(
            id=follow_up_id,
            resident_id=resident.id,
            village_code=resident.village_code,
            district_code=resident.district_code,
            visited_on=visited if isinstance(visited, date) else date.fromisoformat(str(visited)),
            employment_status=follow_up.get("employment_status"),
            income_per_member_idr=follow_up.get("income_per_member_idr"),
            organisation_id=follow_up.get("organisation_id"),
        )
    )


def _record_enrolment(
    session: Session, resident: ResidentFact, cohort: Mapping[str, Any], at: datetime
) -> None:
    code = str(cohort["code"])
    if session.get(EnrolmentFact, (code, resident.id)) is not None:
        return  # the baseline is frozen: an enrolment seen again changes nothing
    baseline_on = _day(cohort["baseline_on"])
    if baseline_on is None:
        raise KeyError("baseline_on")
    session.add(
        EnrolmentFact(
            cohort_code=code,
            resident_id=resident.id,
            enrolled_at=at,
            baseline_on=baseline_on,
            welfare_decile=_int_or_none(cohort.get("welfare_decile")),
            decile_edition=_text(cohort.get("decile_edition")),
            decile_effective_on=_day(cohort.get("decile_effective_on")),
            income_per_member_idr=_int_or_none(cohort.get("income_per_member_idr")),
            target_max_decile=_int_or_none(cohort.get("target_max_decile")),
        )
    )


def apply_opportunities(session: Session, changes: list[Change]) -> None:
    opportunities, held = _held(session, OpportunityFact, changes, "opportunity")

    def one(change: Change) -> None:
        payload = change.payload
        status = str(payload.get("status") or "")
        village = payload.get("location_village_code")
        values: dict[str, Any] = {
            "version": change.version,
            "provider_org_id": str(payload["provider_org_id"]),
            "provider_org_type": str(payload.get("provider_org_type") or "unknown"),
            "kind": str(payload["kind"]),
            "location_village_code": village,
            "district_code": district_of(village) if village else None,
            "slots": int(payload.get("slots") or 0),
            "status": status,
            "created_at": parse_utc(payload.get("created_at")) or change.occurred_at,
        }
        row = _upsert(session, OpportunityFact, held, change, values)
        opened = change.event == "opened" or status in OPEN_STATUSES
        if opened and row.opened_at is None:
            row.opened_at = row.created_at if change.event == "created" else change.occurred_at
        if (change.event == "cancelled" or status == "cancelled") and row.cancelled_at is None:
            row.cancelled_at = change.occurred_at
        session.flush()

    _each(session, OpportunityFact, held, opportunities, one)


def apply_matching(session: Session, changes: list[Change]) -> None:
    placements, held = _held(session, PlacementFact, changes, "placement")
    _lock_status_events(session)

    def one(change: Change) -> None:
        payload = change.payload
        village = str(payload["village_code"])
        values: dict[str, Any] = {
            "version": change.version,
            "status": str(payload.get("status") or change.event),
            "resident_id": str(payload["resident_id"]),
            "opportunity_id": str(payload["opportunity_id"]),
            "provider_org_id": str(payload["provider_org_id"]),
            "provider_org_type": str(payload.get("provider_org_type") or "unknown"),
            "kind": str(payload["kind"]),
            "village_code": village,
            "district_code": payload.get("district_code") or district_of(village) or village,
            "grant_amount_idr": payload.get("grant_amount_idr"),
        }
        values.update({name: parse_utc(payload.get(name)) for name in PLACEMENT_TIMES})
        was = _was(held, change, PLACEMENT_EVENTS)
        row = _upsert(session, PlacementFact, held, change, values)
        _record_transitions(session, row, was, PLACEMENT_EVENTS, row.resident_id, row.kind)
        session.flush()

    _each(session, PlacementFact, held, placements, one)
