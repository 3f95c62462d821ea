"""Facts for the rules, read from the read model and this service's placements."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import fields
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session
from sqlmodel import col

from services.matching.eligibility.rules import ACTIVE_STATUSES, OpportunityFacts, ResidentFacts
from services.matching.placements.models import CapitalGrant, Placement
from services.matching.readmodel.models import OpportunityView, ResidentView
from shared.kit.time import as_utc

PENDING_STATUSES = ("proposed", "offered")
FactsT = TypeVar("FactsT", ResidentFacts, OpportunityFacts)


def _chunks(ids: Sequence[uuid.UUID], size: int = 500) -> Iterable[Sequence[uuid.UUID]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


_FACT_NAMES: dict[type, tuple[str, ...]] = {
    kind: tuple(f.name for f in fields(kind)) for kind in (ResidentFacts, OpportunityFacts)
}


def _facts(kind: type[FactsT], row: object, **derived: Any) -> FactsT:
    """The rules' facts of a read-model row: each fact the row holds under the same name is
    copied as it is, so a fact added to both needs no line here; the others are derived by the
    caller (tuples for lists, flags and slots computed from several columns)."""
    copied = {name: getattr(row, name) for name in _FACT_NAMES[kind] if name not in derived}
    return kind(**copied, **derived)


def resident_facts(session: Session, rows: Sequence[ResidentView]) -> list[ResidentFacts]:
    """Facts of the residents given: with their active kinds, capital and last assistance."""
    ids = [row.id for row in rows]
    active: dict[uuid.UUID, set[str]] = defaultdict(set)
    assisted: dict[uuid.UUID, datetime] = {}
    capital: set[uuid.UUID] = set()
    many = len(ids) > 2000
    active_q = select(col(Placement.resident_id), col(Placement.kind)).where(
        col(Placement.status).in_(ACTIVE_STATUSES)
    )
    assisted_q = select(col(Placement.resident_id), func.max(col(Placement.accepted_at))).group_by(
        col(Placement.resident_id)
    )
    capital_q = select(col(CapitalGrant.resident_id))
    # A round reads whole tables once; a lookup reads only its residents' rows.
    batches: Iterable[Sequence[uuid.UUID] | None] = [None] if many else _chunks(ids)
    for batch in batches:
        a, s, c = active_q, assisted_q, capital_q
        if batch is not None:
            a = a.where(col(Placement.resident_id).in_(batch))
            s = s.where(col(Placement.resident_id).in_(batch))
            c = c.where(col(CapitalGrant.resident_id).in_(batch))
        for resident_id, kind in session.execute(a):
            active[resident_id].add(kind)
        for resident_id, accepted_at in session.execute(s):
            if accepted_at is not None:
                assisted[resident_id] = as_utc(accepted_at)
        capital.update(session.scalars(c))
    facts = []
    for row in rows:
        since = as_utc(row.verified_at or row.registered_at)
        last = assisted.get(row.id)
        if last is not None and (since is None or last > since):
            since = last
        facts.append(
            _facts(
                ResidentFacts,
                row,
                in_target_group=row.in_target_group and row.productive_age,
                skills=tuple(row.skills or ()),
                waiting_since=since,
                active_kinds=frozenset(active.get(row.id, ())),
                received_capital=row.id in capital,
            )
        )
    return facts


def load_residents(
    session: Session,
    *,
    ids: Sequence[uuid.UUID] | None = None,
    district_codes: Sequence[str] | None = None,
    area_codes: Sequence[str] | None = None,
    region: str | None = None,
    eligible_statuses: Sequence[str] | None = None,
) -> list[ResidentFacts]:
    statement = select(ResidentView)
    if ids is not None:
        statement = statement.where(col(ResidentView.id).in_(ids))
    if district_codes is not None:
        statement = statement.where(col(ResidentView.district_code).in_(district_codes))
    if region:
        statement = statement.where(_within(col(ResidentView.village_code), [region]))
    if area_codes:
        statement = statement.where(_within(col(ResidentView.village_code), list(area_codes)))
    if eligible_statuses is not None:
        statement = statement.where(
            col(ResidentView.status).in_(eligible_statuses),
            col(ResidentView.in_target_group).is_(True),
            col(ResidentView.productive_age).is_(True),
            # The same test as ``rules.consent_withheld``, in SQL: a round never reads them.
            or_(col(ResidentView.consent).is_(None), col(ResidentView.consent) == "given"),
        )
    rows = list(session.scalars(statement.order_by(col(ResidentView.id))))
    return resident_facts(session, rows)


def _within(column: Any, areas: list[str]) -> Any:
    return or_(*[or_(column == area, column.like(area.replace("%", "") + ".%")) for area in areas])


def opportunity_facts(session: Session, rows: Sequence[OpportunityView]) -> list[OpportunityFacts]:
    """Facts of the opportunities given, with slots left after accepted, started, completed and
    pending (proposed, offered) placements."""
    pending: dict[uuid.UUID, int] = {}
    ids = [row.id for row in rows]
    for batch in _chunks(ids, 1000):
        statement = (
            select(col(Placement.opportunity_id), func.count())
            .where(
                col(Placement.status).in_(PENDING_STATUSES),
                col(Placement.opportunity_id).in_(batch),
            )
            .group_by(col(Placement.opportunity_id))
        )
        pending.update({opp_id: int(count) for opp_id, count in session.execute(statement)})
    return [
        _facts(
            OpportunityFacts,
            row,
            eligible_area_codes=tuple(row.eligible_area_codes or ()),
            skills_required=tuple(row.skills_required or ()),
            skills_taught=tuple(row.skills_taught or ()),
            remaining_slots=row.slots - row.taken - pending.get(row.id, 0),
        )
        for row in rows
    ]


def load_open_opportunities(
    session: Session,
    run_date: date,
    *,
    ids: Sequence[uuid.UUID] | None = None,
    kinds: Sequence[str] | None = None,
) -> list[OpportunityFacts]:
    """Open opportunities still valid on the run date with at least one slot left."""
    statement = select(OpportunityView).where(col(OpportunityView.status) == "open")
    if ids is not None:
        statement = statement.where(col(OpportunityView.id).in_(ids))
    if kinds is not None:
        statement = statement.where(col(OpportunityView.kind).in_(kinds))
    statement = statement.where(
        or_(
            col(OpportunityView.valid_through).is_(None),
            col(OpportunityView.valid_through) >= run_date,
        ),
        or_(col(OpportunityView.end_date).is_(None), col(OpportunityView.end_date) >= run_date),
    )
    rows = list(session.scalars(statement.order_by(col(OpportunityView.id))))
    return [f for f in opportunity_facts(session, rows) if (f.remaining_slots or 0) > 0]
