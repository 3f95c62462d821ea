"""Placements: creation (by a run or directly by an agency), the transitions of DESIGN.md's
matrix, and the limits that must hold under concurrency (slots, capital once, one active
placement per kind), each enforced by the database in the transition's own transaction."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlmodel import col

from services.matching.access import in_region, is_programme, owns
from services.matching.eligibility.rules import (
    CAPITAL_KIND,
    REASON_TEXT,
    OpportunityFacts,
    ResidentFacts,
    check,
    consent_withheld,
)
from services.matching.eligibility.service import load_residents, opportunity_facts
from services.matching.placements.models import (
    ActiveKind,
    CapitalGrant,
    PendingDisclosure,
    Placement,
    PlacementCreate,
    PlacementDetail,
    PlacementPublic,
    PlacementTransition,
    ResidentDecision,
    TransitionPublic,
)
from services.matching.readmodel.models import OpportunityView, ResidentView
from services.matching.settings import MatchingSettings
from services.matching.tables import feed_tables
from shared.kit.database import rows_changed, table_of
from shared.kit.feed import record_change, record_changes
from shared.kit.pagination import PageParams, decode_cursor, encode_cursor
from shared.kit.problems import Conflict, Forbidden, NotFound, UnprocessableEntity
from shared.kit.time import as_utc, utcnow
from shared.kit.tokens import Principal
from shared.programme.organisations import LOCAL_GOVERNMENT_TYPES, PROVIDER_TYPES
from shared.programme.placements import PLACEMENT_TIMES
from shared.programme.scopes import (
    PLACEMENTS_PROGRESS,
    PLACEMENTS_RESIDENT_DECISION,
    PLACEMENTS_RESPOND,
    PLACEMENTS_WRITE,
    RESIDENTS_DISCLOSE,
)

ENDED = frozenset({"completed", "declined", "dropped", "expired"})


def _iso(value: datetime | date | None) -> str | None:
    if isinstance(value, datetime):
        value = as_utc(value)
    return value.isoformat() if value is not None else None


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]
    target: str
    stamp: str
    scope: str
    actors: str  # programme | respond | progress


# The placement's state machine, a row per action: the statuses it leaves (space-separated),
# the status it reaches, the time it stamps, the scope it needs and who may take it.
TRANSITIONS: dict[str, Transition] = {
    action: Transition(frozenset(sources.split()), target, stamp, scope, actors)
    for action, sources, target, stamp, scope, actors in (
        ("offer", "proposed", "offered", "offered_at", PLACEMENTS_WRITE, "programme"),
        ("accept", "offered", "accepted", "accepted_at", PLACEMENTS_RESPOND, "respond"),
        ("decline", "proposed offered", "declined", "ended_at", PLACEMENTS_RESPOND, "respond"),
        ("start", "accepted", "started", "started_at", PLACEMENTS_PROGRESS, "progress"),
        ("complete", "started", "completed", "completed_at", PLACEMENTS_PROGRESS, "progress"),
        ("drop", "accepted started", "dropped", "ended_at", PLACEMENTS_PROGRESS, "progress"),
    )
}


# The placement columns a change-feed payload carries, in docs/contracts.md's order.
_PAYLOAD_FIELDS = (
    "id",
    "version",
    "status",
    "resident_id",
    "opportunity_id",
    "run_id",
    "provider_org_id",
    "provider_org_type",
    "created_by_org",
    "kind",
    "village_code",
    "district_code",
    "grant_amount_idr",
    *PLACEMENT_TIMES,
)


def _payload(values: Mapping[str, Any]) -> dict[str, Any]:
    """The change-feed payload of docs/contracts.md: ids, codes and dates, no personal data.
    Built from plain column values so the bulk path and the ORM path share it."""
    return {
        "id": str(values["id"]),
        "version": values["version"],
        "status": values["status"],
        "resident_id": str(values["resident_id"]),
        "opportunity_id": str(values["opportunity_id"]),
        "run_id": str(values["run_id"]) if values["run_id"] else None,
        "provider_org_id": values["provider_org_id"],
        "provider_org_type": values["provider_org_type"],
        # Who placed the resident (the round's or the direct placement's organisation): the
        # registry's visit plan assigns the follow-up visits to it.
        "placed_by_org_id": values["created_by_org"],
        "kind": values["kind"],
        "village_code": values["village_code"],
        "district_code": values["district_code"],
        "grant_amount_idr": values["grant_amount_idr"],
        **{name: _iso(values[name]) for name in PLACEMENT_TIMES},
    }


def payload(placement: Placement) -> dict[str, Any]:
    return _payload({name: getattr(placement, name) for name in _PAYLOAD_FIELDS})


def record_step(
    session: Session,
    placement: Placement,
    from_status: str | None,
    org_id: str,
    org_type: str,
    at: datetime,
    decided_by: str | None = None,
) -> None:
    """A placement's step as matching records it: its history row and its change on the feed,
    in the caller's transaction. The one way a step is written (the registry's tests seed
    placements through it, so their feed is the one matching publishes)."""
    session.add(
        PlacementTransition(
            placement_id=placement.id,
            from_status=from_status,
            to_status=placement.status,
            version=placement.version,
            org_id=org_id,
            org_type=org_type,
            at=at,
            decided_by=decided_by,
        )
    )
    record_change(
        session,
        feed_tables,
        entity="placement",
        entity_id=str(placement.id),
        event=placement.status,
        version=placement.version,
        payload=payload(placement),
    )


def _placement_values(
    *,
    resident: ResidentFacts,
    opportunity: OpportunityView,
    status: str,
    org_id: str,
    run_id: uuid.UUID | None,
    score: float | None,
    now: datetime,
) -> dict[str, Any]:
    """The columns of a new placement: one definition for the per-row and the bulk path."""
    return {
        "id": uuid.uuid4(),
        "version": 1,
        "status": status,
        "resident_id": resident.id,
        "opportunity_id": opportunity.id,
        "run_id": run_id,
        "provider_org_id": opportunity.provider_org_id,
        "provider_org_type": opportunity.provider_org_type,
        "kind": opportunity.kind,
        "village_code": resident.village_code,
        "district_code": resident.district_code,
        "grant_amount_idr": opportunity.grant_amount_idr,
        "score": score,
        "created_by_org": org_id,
        "proposed_at": now,
        "offered_at": now if status == "offered" else None,
        "accepted_at": None,
        "started_at": None,
        "completed_at": None,
        "ended_at": None,
        "created_at": now,
    }


def new_placement(
    session: Session,
    *,
    resident: ResidentFacts,
    opportunity: OpportunityView,
    status: str,
    org_id: str,
    org_type: str,
    run_id: uuid.UUID | None = None,
    score: float | None = None,
    now: datetime | None = None,
) -> Placement:
    now = now or utcnow()
    placement = Placement(
        **_placement_values(
            resident=resident,
            opportunity=opportunity,
            status=status,
            org_id=org_id,
            run_id=run_id,
            score=score,
            now=now,
        )
    )
    session.add(placement)
    session.flush()
    record_step(session, placement, None, org_id, org_type, now)
    return placement


# The tables themselves: core INSERTs skip the ORM's per-row bookkeeping.
_PLACEMENT = table_of(Placement)
_TRANSITION = table_of(PlacementTransition)


@dataclass(frozen=True)
class ProposedPlacement:
    resident: ResidentFacts
    opportunity_id: uuid.UUID
    score: float


def propose_placements(
    session: Session,
    proposals: Sequence[ProposedPlacement],
    *,
    org_id: str,
    org_type: str,
    run_id: uuid.UUID,
    now: datetime | None = None,
    chunk_size: int = 1000,
) -> list[uuid.UUID]:
    """A round's placements in status ``proposed``: for each proposal the same placement,
    history row and change as :func:`new_placement`, written set-based (multi-row INSERTs in
    chunks) in the caller's transaction, so a round of tens of thousands of proposals is not
    tens of thousands of round trips. Returns the placement ids in the proposals' order."""
    now = now or utcnow()
    opportunities: dict[uuid.UUID, OpportunityView] = {}
    wanted = list(dict.fromkeys(p.opportunity_id for p in proposals))
    for start in range(0, len(wanted), chunk_size):
        for opportunity in session.scalars(
            select(OpportunityView).where(
                col(OpportunityView.id).in_(wanted[start : start + chunk_size])
            )
        ):
            opportunities[opportunity.id] = opportunity
    missing = [str(i) for i in wanted if i not in opportunities]
    if missing:
        # The round read these from the read model moments ago: fail the run rather than
        # write placements without their provider.
        raise LookupError(f"opportunities gone from the read model: {', '.join(missing[:5])}")
    ids: list[uuid.UUID] = []
    for start in range(0, len(proposals), chunk_size):
        placements: list[dict[str, Any]] = []
        history: list[dict[str, Any]] = []
        changes: list[dict[str, Any]] = []
        for proposal in proposals[start : start + chunk_size]:
            values = _placement_values(
                resident=proposal.resident,
                opportunity=opportunities[proposal.opportunity_id],
                status="proposed",
                org_id=org_id,
                run_id=run_id,
                score=proposal.score,
                now=now,
            )
            placements.append(values)
            history.append(
                {
                    "id": uuid.uuid4(),
                    "placement_id": values["id"],
                    "from_status": None,
                    "to_status": values["status"],
                    "version": values["version"],
                    "org_id": org_id,
                    "org_type": org_type,
                    "at": now,
                }
            )
            changes.append(
                {
                    "entity": "placement",
                    "entity_id": str(values["id"]),
                    "event": values["status"],
                    "version": values["version"],
                    "payload": _payload(values),
                }
            )
            ids.append(values["id"])
        # Core executemany on the tables, pipelined by psycopg: every row has every key, so a
        # chunk is one batch (the ORM splits a batch wherever the pattern of NULLs changes),
        # and the statement is parsed once. Placements first: history rows reference them.
        session.execute(insert(_PLACEMENT), placements)
        session.execute(insert(_TRANSITION), history)
        record_changes(session, feed_tables, changes)
    return ids


def can_see(principal: Principal, placement: Placement) -> bool:
    return (
        is_programme(principal)
        or in_region(principal, placement.village_code)
        or owns(principal, placement.provider_org_id)
    )


def may_act(principal: Principal, placement: Placement, actors: str) -> bool:
    if is_programme(principal):
        return True
    if actors == "respond":
        return in_region(principal, placement.village_code)
    if actors == "progress":
        return owns(principal, placement.provider_org_id)
    return False


def get_visible(session: Session, principal: Principal, placement_id: uuid.UUID) -> Placement:
    placement = session.get(Placement, placement_id)
    if placement is None or not can_see(principal, placement):
        raise NotFound("no such placement")
    return placement


def _flush_or_conflict(session: Session, message: str) -> None:
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict(message) from exc


def _on_accept(session: Session, placement: Placement, settings: MatchingSettings) -> None:
    opportunity = session.get(OpportunityView, placement.opportunity_id)
    if opportunity is None or opportunity.status != "open":
        raise Conflict("the opportunity is no longer open")
    # The slot is taken by one conditional UPDATE: concurrent accepts queue on the row and
    # each re-checks ``taken < slots``, so the last slot is given once.
    taken = rows_changed(
        session.execute(
            update(OpportunityView)
            .where(col(OpportunityView.id) == placement.opportunity_id)
            .where(col(OpportunityView.taken) < col(OpportunityView.slots))
            .values(taken=col(OpportunityView.taken) + 1)
            .execution_options(synchronize_session=False)
        )
    )
    if taken != 1:
        raise Conflict("every slot of the opportunity is taken")
    session.add(
        ActiveKind(
            resident_id=placement.resident_id, kind=placement.kind, placement_id=placement.id
        )
    )
    _flush_or_conflict(session, f"the resident already holds an active {placement.kind} placement")
    if placement.kind == CAPITAL_KIND:
        session.add(
            CapitalGrant(
                resident_id=placement.resident_id,
                placement_id=placement.id,
                provider_org_id=placement.provider_org_id,
                granted_at=utcnow(),
            )
        )
        _flush_or_conflict(session, "the resident already received business capital")
    now = utcnow()
    session.add(
        PendingDisclosure(
            placement_id=placement.id,
            resident_id=placement.resident_id,
            org_id=placement.provider_org_id,
            valid_until=date.today() + timedelta(days=settings.disclosure_valid_days),
            created_at=now,
            next_attempt_at=now,
        )
    )


def _on_end(session: Session, placement: Placement, from_status: str) -> None:
    session.execute(delete(ActiveKind).where(col(ActiveKind.placement_id) == placement.id))
    if placement.status == "dropped":
        session.execute(
            update(OpportunityView)
            .where(col(OpportunityView.id) == placement.opportunity_id)
            .where(col(OpportunityView.taken) > 0)
            .values(taken=col(OpportunityView.taken) - 1)
            .execution_options(synchronize_session=False)
        )
        if from_status == "accepted":
            # Dropped before it started: the capital was never paid out.
            session.execute(
                delete(CapitalGrant).where(col(CapitalGrant.placement_id) == placement.id)
            )


def transition(
    session: Session,
    principal: Principal,
    placement_id: uuid.UUID,
    action: str,
    settings: MatchingSettings,
    *,
    resident_id: uuid.UUID | None = None,
) -> Placement:
    """``resident_id``: the resident's own answer (resident_decision), checked against the
    placement instead of the caller's rights; an organisation's answer is a proxy's."""
    rule = TRANSITIONS[action]
    if resident_id is not None:
        found = session.get(Placement, placement_id)
        if found is None or found.resident_id != resident_id:
            raise NotFound("no such placement")
        placement = found
    else:
        placement = get_visible(session, principal, placement_id)
        if not may_act(principal, placement, rule.actors):
            raise Forbidden(
                f"organisations of type {principal.org_type} may not {action} this placement"
            )
    decided_by = None
    if rule.actors == "respond":
        decided_by = "resident" if resident_id is not None else "proxy"
    if placement.status == rule.target:
        return placement  # a retried request: already done, nothing more to do
    if placement.status not in rule.sources:
        raise Conflict(
            f"cannot {action} a placement that is {placement.status}; "
            f"it must be {' or '.join(sorted(rule.sources))}"
        )
    from_status = placement.status
    now = utcnow()
    changed = rows_changed(
        session.execute(
            update(Placement)
            .where(col(Placement.id) == placement.id)
            .where(col(Placement.version) == placement.version)
            .values(
                status=rule.target,
                version=placement.version + 1,
                **{rule.stamp: now},
                **({"decided_by": decided_by} if decided_by else {}),
            )
            .execution_options(synchronize_session=False)
        )
    )
    if changed != 1:
        raise Conflict(f"the placement changed meanwhile; it is no longer {from_status}")
    session.refresh(placement)
    if action == "accept":
        _on_accept(session, placement, settings)
    elif placement.status in ENDED:
        _on_end(session, placement, from_status)
    record_step(
        session, placement, from_status, principal.org_id, principal.org_type, now, decided_by
    )
    return placement


def resident_decision(
    session: Session,
    principal: Principal,
    placement_id: uuid.UUID,
    body: ResidentDecision,
    settings: MatchingSettings,
) -> Placement:
    """The resident's own yes or no, relayed by the registry's client (the only holder of
    ``placements:resident-decision``), which matched the reply to the number the offer went
    to. Recorded as the resident's decision (``decided_by: resident``), not a proxy's."""
    if PLACEMENTS_RESIDENT_DECISION not in principal.scopes:
        raise Forbidden(f"this action needs the scope {PLACEMENTS_RESIDENT_DECISION}")
    return transition(
        session, principal, placement_id, body.decision, settings, resident_id=body.resident_id
    )


def create_direct(
    session: Session, principal: Principal, body: PlacementCreate, settings: MatchingSettings
) -> tuple[Placement, bool]:
    """An agency places a resident directly (status ``offered``), under the same rules. A retry
    finds the placement already made for the pair and returns it."""
    # Locked as the feed's consent withdrawal locks it: a withdrawal applied meanwhile is
    # seen here, or finds this placement and ends it (withdraw_without_consent).
    view = session.get(ResidentView, body.resident_id, with_for_update=True)
    if view is not None and consent_withheld(view.consent):
        raise UnprocessableEntity(
            "resident_id",
            "the resident refused or withdrew consent and cannot be placed",
            reason="no_consent",
        )
    existing = session.scalars(
        select(Placement).where(
            col(Placement.resident_id) == body.resident_id,
            col(Placement.opportunity_id) == body.opportunity_id,
            col(Placement.status).not_in(ENDED),
        )
    ).first()
    if existing is not None:
        return existing, False
    residents = load_residents(session, ids=[body.resident_id])
    if not residents:
        raise UnprocessableEntity("resident_id", "no such resident in the matching read model")
    opportunity = session.get(OpportunityView, body.opportunity_id)
    if opportunity is None:
        raise UnprocessableEntity("opportunity_id", "no such opportunity")
    facts: OpportunityFacts = opportunity_facts(session, [opportunity])[0]
    reasons = check(
        residents[0], facts, date.today(), frozenset(settings.eligible_resident_statuses)
    )
    if reasons:
        raise UnprocessableEntity(
            "opportunity_id",
            "the resident is not eligible: " + "; ".join(REASON_TEXT[r] for r in reasons),
            reasons=[r.value for r in reasons],
        )
    placement = new_placement(
        session,
        resident=residents[0],
        opportunity=opportunity,
        status="offered",
        org_id=principal.org_id,
        org_type=principal.org_type,
    )
    return placement, True


@dataclass(frozen=True)
class PlacementFilters:
    resident_id: uuid.UUID | None = None
    opportunity_id: uuid.UUID | None = None
    provider_org_id: str | None = None
    status: str | None = None
    district_code: str | None = None


def list_placements(
    session: Session, principal: Principal, filters: PlacementFilters, page: PageParams
) -> tuple[list[Placement], str | None]:
    statement = select(Placement)
    if is_programme(principal):
        pass
    elif principal.org_type in LOCAL_GOVERNMENT_TYPES and principal.region:
        region = principal.region
        statement = statement.where(
            or_(
                col(Placement.village_code) == region,
                col(Placement.village_code).like(region + ".%"),
            )
        )
    elif principal.org_type in PROVIDER_TYPES:
        statement = statement.where(col(Placement.provider_org_id) == principal.org_id)
    else:
        return [], None
    for column, value in (
        (col(Placement.resident_id), filters.resident_id),
        (col(Placement.opportunity_id), filters.opportunity_id),
        (col(Placement.provider_org_id), filters.provider_org_id),
        (col(Placement.status), filters.status),
        (col(Placement.district_code), filters.district_code),
    ):
        if value is not None:
            statement = statement.where(column == value)
    if page.cursor:
        (after,) = decode_cursor(page.cursor, 1)
        try:
            after_id = uuid.UUID(str(after))
        except ValueError as exc:
            raise UnprocessableEntity(
                ["query", "cursor"], "not a cursor this endpoint issued"
            ) from exc
        statement = statement.where(col(Placement.id) > after_id)
    rows = list(session.scalars(statement.order_by(col(Placement.id)).limit(page.limit + 1)))
    if len(rows) <= page.limit:
        return rows, None
    rows = rows[: page.limit]
    return rows, encode_cursor([str(rows[-1].id)])


def to_public(placement: Placement) -> PlacementPublic:
    public = PlacementPublic.model_validate(placement, from_attributes=True)
    for name in PLACEMENT_TIMES:
        setattr(public, name, as_utc(getattr(public, name)))
    return public


def detail(session: Session, placement: Placement) -> PlacementDetail:
    history = session.scalars(
        select(PlacementTransition)
        .where(col(PlacementTransition.placement_id) == placement.id)
        .order_by(col(PlacementTransition.version))
    )
    return PlacementDetail(
        **to_public(placement).model_dump(),
        history=[TransitionPublic.model_validate(h, from_attributes=True) for h in history],
    )


# Placements a consent withdrawal ends, and how. Started (and ended) ones are kept: the
# resident is already at work, in training or holds the capital under a contract of its own,
# and dropping it is theirs and the provider's to record (drop), not the feed's to decide.
# The provider that started it keeps what was disclosed to it for that placement.
WITHDRAWN_ENDS = {"proposed": "declined", "offered": "declined", "accepted": "dropped"}


def withdraw_without_consent(
    session: Session, resident_ids: Sequence[uuid.UUID], *, chunk_size: int = 500
) -> int:
    """End the placements not yet started of residents who refused or withdrew consent:
    proposed and offered ones are declined on their behalf, accepted ones dropped (the slot
    and any capital go back). A disclosure not yet delivered is never sent. Returns how many
    ended. Runs in the caller's transaction; each placement is locked, so a concurrent start
    either wins (and the placement is kept) or waits and finds it ended."""
    now = utcnow()
    ended = 0
    for start in range(0, len(resident_ids), chunk_size):
        rows = session.scalars(
            select(Placement)
            .where(
                col(Placement.resident_id).in_(resident_ids[start : start + chunk_size]),
                col(Placement.status).in_(tuple(WITHDRAWN_ENDS)),
            )
            .order_by(col(Placement.id))
            .with_for_update()
        ).all()
        for placement in rows:
            from_status = placement.status
            session.execute(
                update(Placement)
                .where(col(Placement.id) == placement.id)
                .values(
                    status=WITHDRAWN_ENDS[from_status],
                    version=placement.version + 1,
                    ended_at=now,
                )
                .execution_options(synchronize_session=False)
            )
            session.refresh(placement)
            _on_end(session, placement, from_status)
            session.execute(
                delete(PendingDisclosure).where(
                    col(PendingDisclosure.placement_id) == placement.id,
                    col(PendingDisclosure.delivered_at).is_(None),
                )
            )
            record_step(session, placement, from_status, "matching-service", "service", now)
            ended += 1
    return ended


def expire_stale(session: Session, today: date, *, limit: int = 500) -> int:
    """Proposed or offered placements whose opportunity closed or passed its validity expire:
    their slots go back to the next round. Returns how many expired."""
    stale = session.scalars(
        select(Placement)
        .join(OpportunityView, col(OpportunityView.id) == col(Placement.opportunity_id))
        .where(
            col(Placement.status).in_(("proposed", "offered")),
            or_(
                col(OpportunityView.status) != "open",
                col(OpportunityView.valid_through) < today,
                col(OpportunityView.end_date) < today,
            ),
        )
        .limit(limit)
    ).all()
    now = utcnow()
    expired = 0
    for placement in stale:
        from_status = placement.status
        changed = rows_changed(
            session.execute(
                update(Placement)
                .where(
                    col(Placement.id) == placement.id, col(Placement.version) == placement.version
                )
                .values(status="expired", version=placement.version + 1, ended_at=now)
                .execution_options(synchronize_session=False)
            )
        )
        if changed != 1:
            continue  # moved on meanwhile; the next sweep looks again
        session.refresh(placement)
        record_step(session, placement, from_status, "matching-service", "service", now)
        expired += 1
    return expired


# Disclosure proof --------------------------------------------------------------------------


def disclosure_proof(session: Session, principal: Principal, placement_id: uuid.UUID) -> Placement:
    """The placement a disclosure names, for the registry to check it against (it asks with the
    disclosing service's own token). Only a ``service`` caller holding ``residents:disclose``
    may ask: the answer is ids and a status, but of every placement."""
    if principal.org_type != "service" or RESIDENTS_DISCLOSE not in principal.scopes:
        raise Forbidden(f"only the service that records disclosures ({RESIDENTS_DISCLOSE})")
    placement = session.get(Placement, placement_id)
    if placement is None:
        raise NotFound("no such placement")
    return placement
