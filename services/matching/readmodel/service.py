"""Appliers of the registry and catalogue feeds: each change is applied only when its
``version`` is newer than the row held, so a change seen twice (or late) changes nothing."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any, TypeVar

import anyio
from sqlalchemy.orm import Session

from services.matching.eligibility.rules import consent_withheld
from services.matching.placements.service import withdraw_without_consent
from services.matching.readmodel.models import OpportunityView, ResidentView, SyncPublic
from shared.kit.feed import Change, FeedConsumer
from shared.kit.time import parse_utc, utcnow
from shared.programme.regions import district_of, regency_of

logger = logging.getLogger("sinergi.matching.readmodel")
View = TypeVar("View", ResidentView, OpportunityView)


def _parse_date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _parse_uuid(value: Any) -> uuid.UUID | None:
    if value in (None, ""):
        return None
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _apply(
    session: Session,
    view: type[View],
    change: Change,
    values_of: Callable[[dict[str, Any], str], dict[str, Any]],
    **on_insert: Any,
) -> dict[str, Any] | None:
    """One change onto its row, locked, when its version is newer than the row's; returns
    the values written, or None when the row held was as new (a change seen twice or late)."""
    entity_id = uuid.UUID(change.entity_id)
    row = session.get(view, entity_id, with_for_update=True)
    if row is not None and row.version >= change.version:
        return None
    values = values_of(change.payload, change.event)
    if row is None:
        session.add(
            view(id=entity_id, version=change.version, updated_at=utcnow(), **on_insert, **values)
        )
    else:
        for name, value in values.items():
            setattr(row, name, value)
        row.version = change.version
        row.updated_at = utcnow()
    session.flush()
    return values


RESIDENT_FIELDS = (
    "village_code",
    "age",
    "sex",
    "education_level",
    "welfare_decile",
    "productive_age",
    "in_target_group",
    "status",
    "priority_rank",
)


def _resident_values(payload: dict[str, Any], event: str) -> dict[str, Any]:
    village = str(payload.get("village_code") or "")
    values: dict[str, Any] = {name: payload.get(name) for name in RESIDENT_FIELDS}
    values.update(
        village_code=village,
        district_code=payload.get("district_code") or district_of(village) or "",
        regency_code=payload.get("regency_code") or regency_of(village) or "",
        skills=list(payload.get("skills") or []),
        disability=list(payload.get("disability") or []),
        productive_age=bool(payload.get("productive_age")),
        in_target_group=bool(payload.get("in_target_group")),
        status=str(payload.get("status") or event),
        registered_at=parse_utc(payload.get("registered_at")),
        verified_at=parse_utc(payload.get("verified_at")),
        independent_at=parse_utc(payload.get("independent_at")),
        merged_into=_parse_uuid(payload.get("merged_into")),
        # Absent from snapshots older than the field: none recorded, as those always meant.
        consent=None if payload.get("consent") is None else str(payload["consent"])[:10],
    )
    if event in ("erased", "merged", "archived"):
        # Such a resident is never proposed again, whatever the snapshot's status says.
        values["status"] = event
        values["in_target_group"] = False
    return values


def apply_resident_changes(session: Session, changes: list[Change]) -> None:
    withheld: set[uuid.UUID] = set()
    for change in changes:
        if change.entity != "resident":
            continue
        values = _apply(session, ResidentView, change, _resident_values)
        if values is None:
            continue
        resident_id = uuid.UUID(change.entity_id)
        if consent_withheld(values["consent"]):
            withheld.add(resident_id)
        else:
            withheld.discard(resident_id)
    if withheld:
        # Refused or withdrawn consent: the resident's placements that have not started end
        # here, in the batch's transaction, while the resident rows stay locked (a direct
        # placement locks the row too, so none slips in between).
        withdraw_without_consent(session, sorted(withheld))


OPPORTUNITY_FIELDS = (
    "provider_org_id",
    "provider_org_type",
    "kind",
    "title",
    "min_age",
    "max_age",
    "min_education",
    "sex",
    "location_village_code",
    "grant_amount_idr",
    "status",
)


def _opportunity_values(payload: dict[str, Any], event: str) -> dict[str, Any]:
    values: dict[str, Any] = {name: payload.get(name) for name in OPPORTUNITY_FIELDS}
    values.update(
        provider_org_id=str(payload.get("provider_org_id") or ""),
        provider_org_type=str(payload.get("provider_org_type") or ""),
        # The catalogue says "any" for offers open to both sexes; the view holds M, F or null.
        sex=payload.get("sex") if payload.get("sex") in ("M", "F") else None,
        kind=str(payload.get("kind") or ""),
        title=str(payload.get("title") or "")[:200],
        skills_required=list(payload.get("skills_required") or []),
        skills_taught=list(payload.get("skills_taught") or []),
        eligible_area_codes=list(payload.get("eligible_area_codes") or []),
        disability_friendly=bool(payload.get("disability_friendly")),
        slots=int(payload.get("slots") or 0),
        start_date=_parse_date(payload.get("start_date")),
        end_date=_parse_date(payload.get("end_date")),
        valid_through=_parse_date(payload.get("valid_through")),
        status=str(payload.get("status") or event),
    )
    if event in ("closed", "cancelled", "expired"):
        values["status"] = event
    return values


def apply_opportunity_changes(session: Session, changes: list[Change]) -> None:
    for change in changes:
        if change.entity != "opportunity":
            continue
        _apply(session, OpportunityView, change, _opportunity_values, taken=0)


async def sync_state(consumers: Iterable[FeedConsumer]) -> SyncPublic:
    """Each feed's cursor and lag, read in a thread (a query per feed)."""
    return SyncPublic(
        feeds=[await anyio.to_thread.run_sync(consumer.state) for consumer in consumers]
    )
