"""Possible duplicates: residents with different NIKs but the same normalised name and birth
date in the same regency. Listed for review, then merged or dismissed."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import tuple_
from sqlalchemy.orm import Session
from sqlmodel import col, func, select

from services.registry import access
from services.registry.duplicates.models import (
    DuplicateDismissal,
    DuplicateGroup,
    DuplicateResolution,
    NikReview,
    NikReviewPublic,
    NikReviewResolution,
)
from services.registry.residents import service as residents
from services.registry.residents.models import Resident, ResidentPublic
from services.registry.settings import RegistrySettings
from shared.kit.database import table_of
from shared.kit.pagination import PageParams, decode_cursor, encode_cursor, paginate
from shared.kit.problems import Conflict, Forbidden, NotFound, UnprocessableEntity
from shared.kit.time import utcnow
from shared.kit.tokens import Principal
from shared.programme.organisations import PROGRAMME_TYPES

# The review's own columns in its answer, beside the two residents shown side by side.
REVIEW_COLUMNS = ("id", "status", "submitted_by", "submitted_at", "resolved_by", "resolved_at")


def group_key(ids: list[str]) -> str:
    return ",".join(sorted(ids))


def _candidates(principal: Principal) -> Any:
    return (
        col(Resident.erased_at).is_(None),
        col(Resident.merged_into).is_(None),
        col(Resident.name_key).is_not(None),
        access.region_filter(principal),
    )


def list_groups(
    session: Session,
    principal: Principal,
    params: PageParams,
    settings: RegistrySettings,
    purpose: str | None,
) -> tuple[list[DuplicateGroup], str | None]:
    keys = (col(Resident.regency_code), col(Resident.name_key), col(Resident.birth_date))
    statement = (
        select(*keys)
        .where(*_candidates(principal))
        .group_by(*keys)
        .having(func.count() > 1)
        .order_by(*keys)
        .limit(params.limit + 1)
    )
    if params.cursor:
        regency, key, born = decode_cursor(params.cursor, 3)
        try:
            after = (str(regency), str(key), date.fromisoformat(str(born)))
        except ValueError as exc:
            raise UnprocessableEntity(
                ["query", "cursor"], "not a cursor this endpoint issued"
            ) from exc
        statement = statement.where(tuple_(*keys) > tuple_(*after))
    found = session.execute(statement).all()
    cursor = None
    if len(found) > params.limit:
        found = found[: params.limit]
        last = found[-1]
        cursor = encode_cursor([last[0], last[1], last[2].isoformat()])
    if not found:
        return [], cursor
    members = list(
        session.scalars(
            select(Resident)
            .where(*_candidates(principal), tuple_(*keys).in_([tuple(row) for row in found]))
            .order_by(col(Resident.id))
        )
    )
    grouped: dict[tuple[str, str, date], list[Resident]] = {}
    for member in members:
        grouped.setdefault(
            (member.regency_code, member.name_key or "", member.birth_date), []
        ).append(member)
    dismissed = set(
        session.scalars(
            select(col(DuplicateDismissal.group_key)).where(
                col(DuplicateDismissal.group_key).in_(
                    [group_key([m.id for m in group]) for group in grouped.values()]
                )
            )
        )
    )
    shown = [
        (key, group)
        for key, group in grouped.items()
        if len(group) > 1 and group_key([m.id for m in group]) not in dismissed
    ]
    shown.sort(key=lambda item: item[0])
    groups = [
        DuplicateGroup(
            regency_code=key[0],
            birth_date=key[2],
            residents=residents.present(
                session, principal, group, settings, action="duplicates.list", purpose=purpose
            ),
        )
        for key, group in shown
    ]
    return groups, cursor


def resolve(
    session: Session,
    principal: Principal,
    data: DuplicateResolution,
    settings: RegistrySettings,
    purpose: str | None,
) -> list[ResidentPublic]:
    """Merge or dismiss, then show the members as they are now (an audited read)."""
    members = _merge_or_dismiss(session, principal, data, settings)
    return residents.present(
        session, principal, members, settings, action="duplicates.resolve", purpose=purpose
    )


def _merge_or_dismiss(
    session: Session,
    principal: Principal,
    data: DuplicateResolution,
    settings: RegistrySettings,
) -> list[Resident]:
    ids = list(dict.fromkeys(data.resident_ids))
    if len(ids) < 2:
        raise UnprocessableEntity("resident_ids", "must name at least two different residents")
    members = [access.get_editable(session, principal, resident_id) for resident_id in ids]
    if data.action == "dismiss":
        key = group_key(ids)
        if session.get(DuplicateDismissal, key) is None:
            session.add(
                DuplicateDismissal(
                    group_key=key, dismissed_by=principal.org_id, dismissed_at=utcnow()
                )
            )
            session.flush()
        return members
    for member in members:
        if member.id == data.keep or member.merged_into == data.keep:
            continue
        member.status = "archived"
        member.merged_into = data.keep
        member.priority_rank = None
        residents.changed(
            session,
            principal,
            member,
            "merged",
            ["status", "merged_into"],
            settings,
            merged_into=data.keep,
        )
    return members


# --- NIK reviews: registrations whose NIK a resident out of the registrant's sight holds ----


def _reviewer(principal: Principal) -> None:
    # Both residents are seen side by side, whatever their regions: the agencies' work.
    if principal.org_type not in PROGRAMME_TYPES:
        raise Forbidden("NIK reviews are resolved by the programme's agencies")


def list_nik_reviews(
    session: Session,
    principal: Principal,
    params: PageParams,
    settings: RegistrySettings,
    purpose: str | None,
) -> tuple[list[NikReviewPublic], str | None]:
    _reviewer(principal)
    statement = select(NikReview).where(col(NikReview.status) == "pending")
    rows, cursor = paginate(session, statement, [table_of(NikReview).c.id], params)
    ids = [i for row in rows for i in (row.resident_id, row.existing_resident_id)]
    found = {r.id: r for r in session.scalars(select(Resident).where(col(Resident.id).in_(ids)))}
    shown = residents.present(
        session,
        principal,
        list(found.values()),
        settings,
        action="nik_review.list",
        purpose=purpose,
    )
    public = {p.id: p for p in shown}
    return [
        NikReviewPublic.model_validate(
            {name: getattr(row, name) for name in REVIEW_COLUMNS}
            | {
                "registration": public[row.resident_id],
                "existing": public[row.existing_resident_id],
            }
        )
        for row in rows
        if row.resident_id in public and row.existing_resident_id in public
    ], cursor


def resolve_nik_review(
    session: Session,
    principal: Principal,
    review_id: str,
    data: NikReviewResolution,
    settings: RegistrySettings,
    purpose: str | None,
) -> ResidentPublic:
    """Settle the review, then show the held registration as it is now (an audited read)."""
    held = _settle_nik_review(session, principal, review_id, data, settings)
    [public] = residents.present(
        session, principal, [held], settings, action="nik_review.resolve", purpose=purpose
    )
    return public


def _settle_nik_review(
    session: Session,
    principal: Principal,
    review_id: str,
    data: NikReviewResolution,
    settings: RegistrySettings,
) -> Resident:
    """Merge (the same person) or reject (a wrong NIK). A held registration is archived
    with everything it was sent with, never deleted, either way. A held edit (``pending_nik``
    of a resident that already had a NIK) is a real resident: merged, it is archived into the
    holder; rejected, the edit's NIK is dropped and the resident keeps its own."""
    _reviewer(principal)
    review = session.get(NikReview, review_id, with_for_update=True)
    if review is None:
        raise NotFound("no such NIK review")
    if review.status != "pending":
        raise Conflict("this NIK review was resolved already", review_status=review.status)
    held = access.get_editable(session, principal, review.resident_id)
    if held.pending_nik is not None and held.held_nik is None and data.action == "reject":
        held.pending_nik = None
        _close(session, principal, review, "rejected")
        residents.changed(session, principal, held, "nik_rejected", ["nik"], settings)
        return held
    held.pending_nik = None
    held.status = "archived"
    held.priority_rank = None
    fields = ["status"]
    if data.action == "merge":
        held.merged_into = review.existing_resident_id
        fields.append("merged_into")
    _close(session, principal, review, "merged" if data.action == "merge" else "rejected")
    residents.changed(session, principal, held, f"nik_{review.status}", fields, settings)
    return held


def _close(session: Session, principal: Principal, review: NikReview, status: str) -> None:
    review.status = status
    review.resolved_by = principal.org_id
    review.resolved_at = utcnow()
    session.add(review)
