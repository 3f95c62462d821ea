"""The catalogue's business logic: plain functions over a session (routes stay thin).

Every change bumps ``version`` and writes its change-feed row in the same transaction; no
function here commits (the request's session does, before the response leaves).
"""

from __future__ import annotations

import secrets
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from datetime import time as dtime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqlalchemy import Text, and_, cast, or_, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from services.opportunities.catalogue import access, rules
from services.opportunities.catalogue.models import (
    BatchItem,
    BatchItemResult,
    BatchResponse,
    ItemError,
    ListFilters,
    Opportunity,
    OpportunityCreate,
    OpportunityFields,
    OpportunityPublic,
    OpportunityUpdate,
    UpsertResult,
)
from services.opportunities.idempotency import service as idempotency
from services.opportunities.idempotency.service import StoredResponse
from services.opportunities.tables import feed_tables
from shared.kit.database import Database
from shared.kit.feed import record_change
from shared.kit.pagination import PageParams, paginate
from shared.kit.problems import Conflict, DomainProblem, Forbidden, NotFound, UnprocessableEntity
from shared.kit.time import as_utc, utcnow
from shared.kit.tokens import Principal
from shared.programme.skills import unknown_skills

ENTITY = "opportunity"
# How many lapsed offers one sweep transaction closes; the sweep goes on while batches are full.
EXPIRE_BATCH = 500
# Every field a provider states about its offer, compared to tell a real change from a retry.
CONTENT_FIELDS: tuple[str, ...] = tuple(
    name for name in OpportunityFields.model_fields if name != "status"
)


class InvalidOpportunity(
    DomainProblem, status=422, title="Request validation error.", type_="request-validation-failed"
):
    """422 naming every broken rule's field, in the shape of FastAPI's validation errors."""

    def __init__(self, errors: list[tuple[str, str]], *, prefix: str = "body") -> None:
        items = [
            {"loc": [prefix, *_loc(name)], "msg": message, "type": "value_error"}
            for name, message in errors
        ]
        detail = "; ".join(f"{name}: {message}" for name, message in errors)
        super().__init__(detail, errors=items)


def _loc(name: str) -> list[str | int]:
    return [int(part) if part.isdigit() else part for part in name.split(".")]


@dataclass(frozen=True, slots=True)
class Catalogue:
    """What the rules need from the settings: the programme's regency and its clock zone."""

    regency_code: str = "63.02"
    timezone: str = "Asia/Makassar"
    now: datetime = field(default_factory=utcnow)

    @property
    def zone(self) -> tzinfo:
        return ZoneInfo(self.timezone)


def new_id() -> str:
    """A time-ordered UUID (version 7 layout), so keyset pages by id run oldest first."""
    millis = int(time.time() * 1000) & ((1 << 48) - 1)
    value = (millis << 80) | (0x7 << 76) | (secrets.randbits(12) << 64)
    value |= (0b10 << 62) | secrets.randbits(62)
    return str(uuid.UUID(int=value))


# Reading ---------------------------------------------------------------------------------


def is_expired(row: Opportunity, now: datetime) -> bool:
    valid_through = as_utc(row.valid_through)
    return row.status == "open" and valid_through is not None and valid_through <= now


def effective_status(row: Opportunity, now: datetime) -> str:
    """An open offer whose valid_through has passed is closed, even before the flip is stored."""
    return "closed" if is_expired(row, now) else row.status


def to_public(row: Opportunity, now: datetime | None = None) -> OpportunityPublic:
    now = now or utcnow()
    data = {name: getattr(row, name) for name in OpportunityPublic.model_fields}
    data.update(
        status=effective_status(row, now),
        skills_required=list(row.skills_required),
        skills_taught=list(row.skills_taught),
        eligible_area_codes=list(row.eligible_area_codes),
    )
    return OpportunityPublic.model_validate(data)


def read(db: Database, row: Opportunity, now: datetime) -> OpportunityPublic:
    """The opportunity as it is now. Touched after its valid_through, its closing is stored at
    once, in a transaction of its own (the request's session only reads), so the feed sees it."""
    if is_expired(row, now):
        with db.session() as session:
            fresh = session.get(Opportunity, row.id)
            if fresh is not None:
                expire_if_due(session, fresh, now)
                row = fresh
    return to_public(row, now)


def etag(opportunity: Opportunity | OpportunityPublic) -> str:
    return f'"{opportunity.id}.v{opportunity.version}"'


def lock(session: Session, row: Opportunity) -> Opportunity:
    """Re-read the row under a lock before a change, so an If-Match check and the write it
    guards see the same version even when two editors race (PostgreSQL)."""
    session.refresh(row, with_for_update=True)
    return row


def get_visible(session: Session, principal: Principal, opportunity_id: str) -> Opportunity:
    """The opportunity if the caller may see it; 404 otherwise, so drafts cannot be probed."""
    row = session.get(Opportunity, opportunity_id)
    if row is None or not access.can_see(principal, row):
        raise NotFound("no such opportunity")
    return row


def list_visible(
    session: Session,
    principal: Principal,
    filters: ListFilters,
    params: PageParams,
    catalogue: Catalogue,
) -> tuple[list[OpportunityPublic], str | None]:
    now = catalogue.now
    statement = select(Opportunity)
    if not access.is_admin(principal):
        statement = statement.where(
            or_(
                col(Opportunity.status) != "draft",
                col(Opportunity.provider_org_id) == principal.org_id,
            )
        )
    conditions: list[Any] = []
    not_expired = or_(
        col(Opportunity.valid_through).is_(None),
        col(Opportunity.valid_through) > now,
    )
    if filters.kind:
        conditions.append(col(Opportunity.kind) == filters.kind)
    if filters.status == "open":
        conditions += [col(Opportunity.status) == "open", not_expired]
    elif filters.status == "closed":
        conditions.append(
            or_(
                col(Opportunity.status) == "closed",
                and_(col(Opportunity.status) == "open", ~not_expired),
            )
        )
    elif filters.status:
        conditions.append(col(Opportunity.status) == filters.status)
    if filters.village_code:
        conditions.append(col(Opportunity.location_village_code) == filters.village_code)
    if filters.district_code:
        conditions.append(col(Opportunity.location_village_code).like(filters.district_code + ".%"))
    if filters.provider_org_id:
        conditions.append(col(Opportunity.provider_org_id) == filters.provider_org_id)
    if filters.skill:
        unknown = unknown_skills([filters.skill])
        if unknown:
            hints = unknown[filters.skill]
            raise UnprocessableEntity(
                ["query", "skill"],
                "unknown skill" + (f"; did you mean {', '.join(hints)}?" if hints else ""),
            )
        # Slugs are [a-z0-9-], so the quoted slug matches exactly one list element in the
        # JSON text on both databases; the vocabulary is small enough not to need an index.
        quoted = f'%"{filters.skill}"%'
        conditions.append(
            or_(
                cast(col(Opportunity.skills_required), Text).like(quoted),
                cast(col(Opportunity.skills_taught), Text).like(quoted),
            )
        )
    if filters.open_on:
        day_start = datetime.combine(filters.open_on, dtime.min, tzinfo=catalogue.zone)
        conditions += [
            col(Opportunity.status) == "open",
            not_expired,
            or_(
                col(Opportunity.valid_through).is_(None),
                col(Opportunity.valid_through) >= day_start.astimezone(UTC),
            ),
        ]
    if conditions:
        statement = statement.where(and_(*conditions))
    by_id: Any = col(Opportunity.id)
    rows, cursor = paginate(session, statement, [by_id], params)
    return [to_public(row, now) for row in rows], cursor


# Writing ---------------------------------------------------------------------------------


def _record(session: Session, row: Opportunity, event: str, now: datetime) -> None:
    record_change(
        session,
        feed_tables,
        entity=ENTITY,
        entity_id=row.id,
        event=event,
        version=row.version,
        payload=to_public(row, now).model_dump(mode="json"),
    )


def _normalise(
    fields: OpportunityFields, principal: Principal, catalogue: Catalogue
) -> OpportunityFields:
    """Apply the conventions (local time to UTC, a local government's default area) and
    check every rule; raises a problem naming each broken field."""
    fields = _with_local_defaults(fields, principal, catalogue)
    errors = rules.check(fields, regency_code=catalogue.regency_code, now=catalogue.now)
    if errors:
        raise InvalidOpportunity(errors)
    outside = access.region_violations(
        principal, fields.location_village_code, fields.eligible_area_codes
    )
    if outside:
        raise Forbidden(
            "; ".join(f"{name}: {message}" for name, message in outside),
            errors=[{"loc": ["body", *_loc(n)], "msg": m, "type": "forbidden"} for n, m in outside],
        )
    return fields


def _content(fields: OpportunityFields) -> dict[str, Any]:
    return {name: getattr(fields, name) for name in CONTENT_FIELDS}


def _row_content(row: Opportunity) -> dict[str, Any]:
    data = {name: getattr(row, name) for name in CONTENT_FIELDS}
    data["valid_through"] = as_utc(row.valid_through)
    return data


def _status_event(current: str, desired: str) -> str | None:
    """The feed event of a requested status change, or a 409 when it is not allowed."""
    if current == desired:
        return None
    if current == "cancelled":
        raise Conflict("a cancelled opportunity is final; publish a new one")
    if desired == "cancelled":
        return "cancelled"
    if desired == "open":
        return "opened"
    raise Conflict(f"a {current} opportunity cannot return to draft")


def expire_if_due(session: Session, row: Opportunity, now: datetime) -> bool:
    """Store the closing of an open offer whose valid_through has passed (lazily, on touch)."""
    if not is_expired(row, now):
        return False
    row.status = "closed"
    row.version += 1
    row.updated_at = now
    session.add(row)
    session.flush()
    _record(session, row, "expired", now)
    return True


def expire_due(session: Session, now: datetime, limit: int = EXPIRE_BATCH) -> int:
    """The background sweep: close every open offer past its valid_through, feed included."""
    rows = session.scalars(
        select(Opportunity)
        .where(
            col(Opportunity.status) == "open",
            col(Opportunity.valid_through) <= now,
        )
        .order_by(col(Opportunity.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    return sum(expire_if_due(session, row, now) for row in rows)


def _new_row(
    principal: Principal, fields: OpportunityFields, external_id: str | None, now: datetime
) -> Opportunity:
    return Opportunity(
        id=new_id(),
        provider_org_id=principal.org_id,
        provider_org_type=principal.org_type,
        external_id=external_id,
        status=fields.status,
        version=1,
        created_at=now,
        updated_at=now,
        **_content(fields),
    )


# The status of a publication's answer, stored with its Idempotency-Key and replayed to retries.
PUBLISHED = 201


def publish(
    session: Session,
    principal: Principal,
    data: OpportunityCreate,
    catalogue: Catalogue,
    idempotency_key: str | None,
) -> StoredResponse:
    """Create an opportunity; with an Idempotency-Key only once, so a retry with the same key
    and body replays the first answer and creates nothing."""

    def perform() -> tuple[int, dict[str, Any]]:
        row = create(session, principal, data, catalogue)
        return PUBLISHED, to_public(row, catalogue.now).model_dump(mode="json")

    if idempotency_key is None:
        status_code, payload = perform()
        return StoredResponse(status_code, payload, replayed=False)
    return idempotency.run_once(
        session,
        org_id=principal.org_id,
        key=idempotency.check_key(idempotency_key),
        endpoint="POST /v1/opportunities",
        body=data.model_dump(mode="json"),
        perform=perform,
    )


def create(
    session: Session, principal: Principal, data: OpportunityCreate, catalogue: Catalogue
) -> Opportunity:
    access.require_publisher(principal)
    fields = _normalise(data, principal, catalogue)
    row = _new_row(principal, fields, data.external_id, catalogue.now)
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError as exc:
        raise Conflict(
            f"external_id {data.external_id!r} is already used by one of your opportunities; "
            "PUT /v1/opportunities/external/{external_id} replaces it",
            errors=[{"loc": ["body", "external_id"], "msg": "already used", "type": "conflict"}],
        ) from exc
    _record(session, row, "created", catalogue.now)
    return row


def _find_external(session: Session, org_id: str, external_id: str) -> Opportunity | None:
    # Locked: two pushes of the same reference with different bodies must not both start
    # from the same version (SQLite serialises writers already; FOR UPDATE is ignored there).
    return session.scalars(
        select(Opportunity)
        .where(
            col(Opportunity.provider_org_id) == org_id,
            col(Opportunity.external_id) == external_id,
        )
        .with_for_update()
    ).first()


def upsert_external(
    session: Session,
    principal: Principal,
    external_id: str,
    data: OpportunityFields,
    catalogue: Catalogue,
) -> UpsertResult:
    """Create or replace the provider's opportunity of this reference. A body identical to
    what is stored changes nothing: no new version, no feed event."""
    access.require_publisher(principal)
    now = catalogue.now
    row = _find_external(session, principal.org_id, external_id)
    if row is None:
        fields = _normalise(data, principal, catalogue)
        row = _new_row(principal, fields, external_id, now)
        try:
            with session.begin_nested():
                session.add(row)
                session.flush()
        except IntegrityError:
            # A parallel push of the same reference committed first: replace that one.
            row = _find_external(session, principal.org_id, external_id)
            if row is None:  # pragma: no cover - it rolled back; the client retries
                raise
        else:
            _record(session, row, "created", now)
            return UpsertResult(opportunity=to_public(row, now), created=True, changed=True)
    return _replace(session, principal, row, data, catalogue)


def _replace(
    session: Session,
    principal: Principal,
    row: Opportunity,
    data: OpportunityFields,
    catalogue: Catalogue,
) -> UpsertResult:
    now = catalogue.now
    expire_if_due(session, row, now)
    # Compare before checking rules: the retry of a push whose offer has since expired is
    # still the same body, and must answer as it did, not fail on a past valid_through.
    candidate = _with_local_defaults(data, principal, catalogue)
    same_content = _content(candidate) == _row_content(row)
    if same_content and (data.status == row.status or row.status in ("closed", "cancelled")):
        return UpsertResult(opportunity=to_public(row, now), created=False, changed=False)
    event = _status_event(row.status, data.status) or "updated"
    fields = _normalise(data, principal, catalogue)
    for name, value in _content(fields).items():
        setattr(row, name, value)
    row.status = fields.status
    _bump(session, row, event, now)
    return UpsertResult(opportunity=to_public(row, now), created=False, changed=True)


def _with_local_defaults(
    data: OpportunityFields, principal: Principal, catalogue: Catalogue
) -> OpportunityFields:
    """The conventions, applied before the rules and before comparing with what is stored: a
    time without a zone is regency time, stored in UTC; and "the whole regency" is not a
    village government's to offer, so its empty eligible areas become its own region."""
    updates: dict[str, Any] = {}
    if data.valid_through is not None:
        value = data.valid_through
        if value.tzinfo is None:
            value = value.replace(tzinfo=catalogue.zone)
        updates["valid_through"] = value.astimezone(UTC)
    if (
        principal.org_type in access.LOCAL_GOVERNMENT_TYPES
        and principal.region
        and not data.eligible_area_codes
    ):
        updates["eligible_area_codes"] = [principal.region]
    return data.model_copy(update=updates) if updates else data


def _bump(session: Session, row: Opportunity, event: str, now: datetime) -> None:
    row.version += 1
    row.updated_at = now
    session.add(row)
    session.flush()
    _record(session, row, event, now)


def update(
    session: Session,
    principal: Principal,
    row: Opportunity,
    patch: OpportunityUpdate,
    catalogue: Catalogue,
) -> Opportunity:
    access.require_editor(principal, row)
    now = catalogue.now
    expire_if_due(session, row, now)
    changes = patch.model_dump(exclude_unset=True)
    desired_status = changes.pop("status", None) or row.status
    merged = _row_content(row) | changes
    # The rules of a status: cancelled and closed offers are not re-checked as open ones.
    merged["status"] = "open" if desired_status == "open" else "draft"
    try:
        fields = OpportunityFields.model_validate(merged)
    except ValidationError as exc:  # a null where a value is required, e.g. "kind": null
        raise InvalidOpportunity(
            [(".".join(map(str, e["loc"])), e["msg"]) for e in exc.errors()]
        ) from exc
    event = _status_event(row.status, desired_status)
    if _content(_with_local_defaults(fields, principal, catalogue)) == _row_content(row) and (
        event is None
    ):
        return row
    fields = _normalise(fields, principal, catalogue)
    for name, value in _content(fields).items():
        setattr(row, name, value)
    row.status = desired_status
    _bump(session, row, event or "updated", now)
    return row


def close(
    session: Session, principal: Principal, row: Opportunity, *, cancel: bool, now: datetime
) -> Opportunity:
    """Close (filled, withdrawn) or cancel (will not happen); closing twice is a no-op."""
    access.require_editor(principal, row)
    expire_if_due(session, row, now)
    target = "cancelled" if cancel else "closed"
    if row.status == target:
        return row
    if row.status == "cancelled":
        raise Conflict("a cancelled opportunity is final")
    row.status = target
    _bump(session, row, target, now)
    return row


# Batch -----------------------------------------------------------------------------------


def batch_upsert(
    session: Session,
    principal: Principal,
    items: list[dict[str, Any]],
    catalogue: Catalogue,
) -> BatchResponse:
    """Upsert each item by its external_id in its own savepoint: a bad item is reported and
    rolled back alone, the others are kept."""
    access.require_publisher(principal)
    results: list[BatchItemResult] = []
    seen: set[str] = set()
    for index, raw in enumerate(items):
        external_id = raw.get("external_id") if isinstance(raw, dict) else None
        reference = external_id if isinstance(external_id, str) else None
        try:
            item = BatchItem.model_validate(raw)
        except ValidationError as exc:
            results.append(_failed(index, reference, 422, _pydantic_errors(index, exc)))
            continue
        if item.external_id in seen:
            errors = [
                ItemError(
                    loc=["body", "items", index, "external_id"],
                    msg="appears twice in this batch",
                    type="value_error",
                )
            ]
            results.append(_failed(index, reference, 422, errors))
            continue
        seen.add(item.external_id)
        try:
            with session.begin_nested():
                outcome = upsert_external(
                    session,
                    principal,
                    item.external_id,
                    OpportunityFields.model_validate(item.model_dump(exclude={"external_id"})),
                    catalogue,
                )
        except DomainProblem as problem:
            results.append(
                _failed(index, reference, problem.status, _problem_errors(index, problem))
            )
            continue
        result = "created" if outcome.created else ("updated" if outcome.changed else "unchanged")
        results.append(
            BatchItemResult(
                index=index,
                external_id=reference,
                result=result,
                status_code=201 if outcome.created else 200,
                opportunity=outcome.opportunity,
            )
        )
    counts = {
        name: sum(r.result == name for r in results)
        for name in ("created", "updated", "unchanged", "error")
    }
    return BatchResponse(
        created=counts["created"],
        updated=counts["updated"],
        unchanged=counts["unchanged"],
        failed=counts["error"],
        items=results,
    )


def _failed(
    index: int, external_id: str | None, status: int, errors: list[ItemError]
) -> BatchItemResult:
    return BatchItemResult(
        index=index, external_id=external_id, result="error", status_code=status, errors=errors
    )


def _pydantic_errors(index: int, exc: ValidationError) -> list[ItemError]:
    return [
        ItemError(loc=["body", "items", index, *e["loc"]], msg=e["msg"], type=e["type"])
        for e in exc.errors()
    ]


def _problem_errors(index: int, problem: DomainProblem) -> list[ItemError]:
    extras: Any = getattr(problem, "extras", None) or {}
    listed = extras.get("errors") if isinstance(extras, dict) else None
    if not listed:
        return [
            ItemError(loc=["body", "items", index], msg=str(problem.detail), type=problem.type_)
        ]
    return [
        ItemError(
            loc=["body", "items", index, *[p for p in e["loc"] if p != "body"]],
            msg=e["msg"],
            type=e["type"],
        )
        for e in listed
    ]
