"""The business of residents: registering, changing, verifying, ranking, erasing, listing.

Every change bumps ``version``, writes a history entry (field names, not values) and a change
on the feed (non-personal snapshot) in the caller's transaction. Routes never commit.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy import update as sql_update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlmodel import and_, col, or_, select

from services.registry import access
from services.registry.audit.models import AuditRecord
from services.registry.audit.service import record_access
from services.registry.deciles.models import ResidentDecile
from services.registry.disclosures.models import Disclosure
from services.registry.duplicates.models import NikReview
from services.registry.follow_ups.models import FollowUp
from services.registry.grievances.models import Grievance
from services.registry.notifications.models import Notification
from services.registry.residents import nik as nik_rules
from services.registry.residents import records
from services.registry.residents.models import (
    PERSONAL_FIELDS,
    ConsentIn,
    ConsentPublic,
    HistoryEntry,
    Resident,
    ResidentChange,
    ResidentCreate,
    ResidentFilters,
    ResidentProviderView,
    ResidentPublic,
    ResidentUpdate,
    ResidentView,
)

# Re-exported: the registry's other domains reach these through the residents' service.
from services.registry.residents.records import CONSENT_WITHHELD as CONSENT_WITHHELD
from services.registry.residents.records import ENTITY as ENTITY
from services.registry.residents.records import decile_row, history_row, name_key, review_row
from services.registry.residents.records import new_id as new_id
from services.registry.settings import RegistrySettings
from services.registry.tables import feed_tables
from shared.kit.attributes import build
from shared.kit.database import table_of
from shared.kit.pagination import PageParams, paginate
from shared.kit.problems import (
    Conflict,
    Forbidden,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
    UnprocessableEntity,
)
from shared.kit.time import as_utc as as_utc
from shared.kit.time import utcnow
from shared.kit.tokens import Principal
from shared.kit.versioned import record_row_change

REQUIRED_FIELDS = ("nik", "full_name", "sex", "birth_date", "village_code")
now_utc = utcnow  # the name the registry's other domains call


def birth_date_bounds(settings: RegistrySettings, today: date) -> tuple[date, date]:
    """Birth dates of productive age today: (earliest exclusive, latest inclusive)."""
    latest = _years_before(today, settings.productive_age_min)
    earliest = _years_before(today, settings.productive_age_max + 1)
    return earliest, latest


def _years_before(today: date, years: int) -> date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


def to_public(resident: Resident, settings: RegistrySettings, today: date) -> ResidentPublic:
    consent = None
    if resident.consent_given is not None:
        consent = ConsentPublic(
            given=resident.consent_given,
            purpose=resident.consent_purpose,
            at=as_utc(resident.consent_at),
            recorded_by=resident.consent_recorded_by,
        )
    return build(
        ResidentPublic,
        resident,
        # A registration or an edit held for NIK review shows the NIK it was sent with.
        nik=visible_nik(resident),
        birth_date=None if resident.erased_at else resident.birth_date,
        skills=list(resident.skills or []),
        disability=list(resident.disability or []),
        consent=consent,
        **records.derived(resident.birth_date, resident.welfare_decile, settings, today),
    )


def visible_nik(resident: Resident) -> str | None:
    """The NIK as the registry's own organisations see it: a NIK waiting for the agencies'
    review (``pending_nik`` of an edit, ``held_nik`` of a registration) shows as the NIK."""
    return resident.pending_nik or resident.nik or resident.held_nik


def present(
    session: Session,
    principal: Principal,
    residents: Sequence[Resident],
    settings: RegistrySettings,
    *,
    action: str,
    purpose: str | None,
) -> list[ResidentPublic]:
    """Residents as the registry's own organisations see them (providers list none), with the
    audit record of each disclosure. ``purpose`` is the caller's X-Purpose."""
    if is_provider_reading(principal):
        raise Forbidden("this organisation does not list residents")
    record_access(
        session,
        principal,
        [r.id for r in residents if r.erased_at is None],
        action=action,
        purpose=purpose,
        stated_purpose=purpose,
    )
    today = now_utc().date()
    return [to_public(r, settings, today) for r in residents]


def present_one(
    session: Session,
    principal: Principal,
    resident: Resident,
    settings: RegistrySettings,
    *,
    action: str,
    purpose: str | None,
    disclosed_for: str | None = None,
) -> ResidentView:
    """One resident in the view its reader's organisation type is allowed (DESIGN.md's access
    table): a provider gets ``ResidentProviderView`` and its read is audited with the purpose
    of its disclosure (``disclosed_for``), its own X-Purpose kept as the stated purpose."""
    if not is_provider_reading(principal):
        [public] = present(session, principal, [resident], settings, action=action, purpose=purpose)
        return public
    if disclosed_for is None:
        disclosure = access.active_disclosure(session, principal, resident.id)
        if disclosure is None:
            raise NotFound("no such resident")
        disclosed_for = str(disclosure.purpose)
    record_access(
        session,
        principal,
        [resident.id],
        action=action,
        purpose=disclosed_for,
        stated_purpose=purpose,
    )
    return to_provider_view(resident)


def read(
    session: Session,
    principal: Principal,
    resident_id: str,
    settings: RegistrySettings,
    *,
    purpose: str | None,
) -> tuple[Resident, ResidentView]:
    """One resident for GET /v1/residents/{id}: a provider reads only a resident disclosed to
    it, and its read is audited with the disclosure's purpose, fetched with the resident."""
    disclosed_for = None
    if access.is_provider(principal):
        resident, disclosed_for = access.get_disclosed(session, principal, resident_id)
    else:
        resident = access.get_visible(session, principal, resident_id)
    view = present_one(
        session,
        principal,
        resident,
        settings,
        action="resident.read",
        purpose=purpose,
        disclosed_for=disclosed_for,
    )
    return resident, view


def to_provider_view(resident: Resident) -> ResidentProviderView:
    return build(ResidentProviderView, resident, skills=list(resident.skills or []))


def is_provider_reading(principal: Principal) -> bool:
    return access.is_provider(principal)


def etag(resident: Resident) -> str:
    return f'"{resident.version}"'


# --- change feed and history --------------------------------------------------------------


def consent_word(resident: Resident) -> str | None:
    """The feed's word for this resident's consent (``records.consent_word``)."""
    return records.consent_word(resident.consent_given, resident.consent_status)


def publish(
    session: Session,
    resident: Resident,
    event: str,
    settings: RegistrySettings,
    **extra: Any,
) -> None:
    if resident.held_nik is not None:
        # Held for NIK review: possibly a second record of a resident already on the feed,
        # so matching and reporting hear of it only once an agency resolved the review.
        return
    payload = records.snapshot(records.values_of(resident), settings)
    payload.update(extra)
    record_row_change(session, feed_tables, ENTITY, resident, event, payload)


def log_change(
    session: Session, principal: Principal, resident: Resident, event: str, fields: Sequence[str]
) -> None:
    at = now_utc()
    session.execute(
        insert(ResidentChange),
        [history_row(principal, resident.id, resident.version, event, fields, at)],
    )
    if "welfare_decile" in fields and resident.welfare_decile is not None:
        values = records.values_of(resident)
        session.execute(insert(ResidentDecile), [decile_row(principal, resident.id, values, at)])


def changed(
    session: Session,
    principal: Principal,
    resident: Resident,
    event: str,
    fields: Sequence[str],
    settings: RegistrySettings,
    **extra: Any,
) -> None:
    """Bump the version, stamp the change, and write history and feed in this transaction."""
    resident.version += 1
    resident.updated_at = now_utc()
    session.add(resident)
    session.flush()
    log_change(session, principal, resident, event, fields)
    publish(session, resident, event, settings, **extra)


# --- rules shared by create, update and import --------------------------------------------


def check_nik_consistency(nik: str, sex: str, birth_date: date) -> None:
    problem = nik_rules.consistency_problem(nik, sex, birth_date)
    if problem:
        raise UnprocessableEntity("nik", problem)


def _write(resident: Resident, values: dict[str, Any]) -> None:
    for name, value in values.items():
        setattr(resident, name, value)


def apply_consent(
    resident: Resident, consent: ConsentIn | None, principal: Principal, at: datetime
) -> None:
    current = records.values_of(resident)
    _write(resident, records.consent_fields(current, consent, principal.org_id, at))


def existing_id_by_nik(session: Session, nik: str) -> str | None:
    return session.scalars(select(col(Resident.id)).where(col(Resident.nik) == nik)).first()


def nik_holder(session: Session, nik: str) -> str | None:
    """Who holds this NIK now, read after a unique-constraint failure (not the pre-check)."""
    return session.scalars(select(col(Resident.id)).where(col(Resident.nik) == nik)).first()


def nik_taken(existing_id: str) -> Conflict:
    return Conflict(
        "a resident with this NIK is already registered",
        existing_resident_id=existing_id,
    )


def nik_conflict_or_hold(
    session: Session,
    principal: Principal,
    nik: str,
    *,
    editing: str | None = None,
    after_conflict: bool = False,
) -> str | None:
    """What registering ``nik`` (or editing resident ``editing`` to it) meets, as this caller
    may know it (issue 13, item 2).

    Raises 409 with the id when the caller can see the resident holding the NIK (or its own
    resident showing it that NIK while it waits for review, a held registration or a held
    edit: a second try must answer as it would had the first been applied). Returns the id of
    a holder the caller cannot see: the registration or edit is then held for the agencies'
    review and answered like an applied one, so the NIK's existence outside the caller's
    region is not disclosed. A holder whose own NIK edit is held counts as unseen too: to its
    editor it no longer has this NIK. None when the NIK is free.
    """
    holder_id = nik_holder(session, nik) if after_conflict else existing_id_by_nik(session, nik)
    holder = session.get(Resident, holder_id) if holder_id else None
    if holder is None or holder.id == editing:
        return None
    if access.governs(principal, holder.village_code) and holder.pending_nik is None:
        raise nik_taken(holder.id)
    own = session.scalars(
        select(col(Resident.id)).where(
            or_(col(Resident.held_nik) == nik, col(Resident.pending_nik) == nik),
            col(Resident.merged_into).is_(None),
            access.region_filter(principal),
        )
    ).first()
    if own is not None and own != editing:
        raise nik_taken(own)
    return holder.id


# --- commands -----------------------------------------------------------------------------


def create(
    session: Session, principal: Principal, data: ResidentCreate, settings: RegistrySettings
) -> Resident:
    access.check_village_governed(principal, data.village_code)
    check_nik_consistency(data.nik, data.sex, data.birth_date)
    hidden_holder = nik_conflict_or_hold(session, principal, data.nik)
    at = now_utc()
    values = data.model_dump(exclude={"consent"})
    resident = Resident(
        id=new_id(),
        source_org_id=principal.org_id,
        registered_at=at,
        updated_at=at,
        **values,
        **records.follow(values, values),
    )
    if data.consent is not None:
        apply_consent(resident, data.consent, principal, at)
    if hidden_holder is None:
        try:
            with session.begin_nested():
                session.add(resident)
                session.flush()
        except IntegrityError:
            # Another request registered the same NIK between our check and our insert.
            hidden_holder = nik_conflict_or_hold(session, principal, data.nik, after_conflict=True)
            if hidden_holder is None:
                raise
    if hidden_holder is not None:
        hold_for_review(session, principal, resident, hidden_holder, at)
    log_change(session, principal, resident, "created", sorted(data.model_fields_set))
    publish(session, resident, "created", settings)
    return resident


def hold_for_review(
    session: Session, principal: Principal, resident: Resident, holder_id: str, at: datetime
) -> None:
    """Keep the registration whole, NIK aside, and queue it for the agencies' review."""
    resident.held_nik, resident.nik = resident.nik, None
    session.add(resident)
    session.flush()
    session.execute(insert(NikReview), [review_row(resident.id, holder_id, principal, at)])


def hold_edit_for_review(
    session: Session, principal: Principal, resident: Resident, nik: str, holder_id: str
) -> None:
    """An edit to a NIK held out of the editor's sight: the resident keeps its NIK and the
    new one waits in ``pending_nik`` for the agencies' review, which merges the two residents
    (one person) or rejects the NIK. The editor sees the NIK it sent; nothing else changes
    for it. A resident has one review row, reopened for a later held edit."""
    resident.pending_nik = nik
    review = session.scalars(select(NikReview).where(col(NikReview.resident_id) == resident.id))
    found = review.first()
    at = now_utc()
    if found is None:
        session.execute(insert(NikReview), [review_row(resident.id, holder_id, principal, at)])
        return
    found.existing_resident_id = holder_id
    found.status = "pending"
    found.submitted_by = principal.org_id
    found.submitted_at = at
    found.resolved_by = None
    found.resolved_at = None
    session.add(found)


def withdraw_held_edit(session: Session, principal: Principal, resident: Resident) -> None:
    """The editor changed the NIK again (back, or to a free one): the held edit is moot."""
    resident.pending_nik = None
    session.execute(
        sql_update(NikReview)
        .where(col(NikReview.resident_id) == resident.id, col(NikReview.status) == "pending")
        .values(status="withdrawn", resolved_by=principal.org_id, resolved_at=now_utc())
    )


def check_if_match(resident: Resident, if_match: str | None) -> None:
    if not if_match:
        raise PreconditionRequired("send If-Match with the ETag of the resident you last read")
    tags = [tag.strip() for tag in if_match.split(",")]
    if etag(resident) not in tags and f"W/{etag(resident)}" not in tags:
        raise PreconditionFailed(
            "the resident changed since you read it; read it again and reapply your change",
            current_version=resident.version,
        )


def update(
    session: Session,
    principal: Principal,
    resident_id: str,
    data: ResidentUpdate,
    if_match: str | None,
    settings: RegistrySettings,
) -> Resident:
    resident = access.get_editable(session, principal, resident_id)
    check_if_match(resident, if_match)
    if resident.erased_at is not None:
        raise Conflict("this resident was erased; personal data cannot be set again")
    values = data.model_dump(exclude_unset=True, exclude={"consent"})
    for field in REQUIRED_FIELDS:
        if field in values and values[field] is None:
            raise UnprocessableEntity(field, "is required and cannot be cleared")
    if "village_code" in values:
        access.check_village_governed(principal, values["village_code"])
    shown = visible_nik(resident)
    if values.get("nik", shown) == shown:
        values.pop("nik", None)  # the NIK its editor sees: no change
    new_nik = str(values.get("nik", shown))
    check_nik_consistency(
        new_nik, values.get("sex", resident.sex), values.get("birth_date", resident.birth_date)
    )
    # Issue 13, item 2: an edit to a NIK held out of the editor's sight is answered as an
    # applied edit (same status, fields and wording; the NIK it sent shows as the NIK) and
    # held for the agencies' NIK review, as a registration of that NIK would be. A 409 or
    # any other answer would tell a village government that the NIK is registered elsewhere.
    hidden = None
    if "nik" in values:
        hidden = nik_conflict_or_hold(session, principal, new_nik, editing=resident.id)
    try:
        # The savepoint opens before the first attribute changes, so a NIK the unique
        # constraint refuses rolls back this edit alone, never the request's transaction.
        with session.begin_nested():
            _apply_update(session, principal, resident, data, dict(values), settings, hidden)
    except IntegrityError:
        # Another request took this NIK between our check and our write: the constraint
        # decides, and the caller hears what the check would have said had it seen it
        # (409 for a holder it sees, the held edit for one it does not).
        if "nik" not in values:
            raise
        hidden = nik_conflict_or_hold(
            session, principal, new_nik, editing=resident.id, after_conflict=True
        )
        if hidden is None:
            raise
        with session.begin_nested():
            _apply_update(session, principal, resident, data, dict(values), settings, hidden)
    return resident


def _apply_update(
    session: Session,
    principal: Principal,
    resident: Resident,
    data: ResidentUpdate,
    values: dict[str, Any],
    settings: RegistrySettings,
    hidden_holder: str | None,
) -> None:
    nik_changed = "nik" in values
    if nik_changed:
        nik = values.pop("nik")
        if hidden_holder is not None:
            hold_edit_for_review(session, principal, resident, nik, hidden_holder)
        else:
            if resident.pending_nik is not None:
                withdraw_held_edit(session, principal, resident)
            resident.nik = nik
    fields = records.changed_fields(records.values_of(resident), values)
    _write(resident, {name: values[name] for name in fields})
    _write(resident, records.follow(fields, values))
    if nik_changed:
        fields.append("nik")
    if "consent" in data.model_fields_set and records.consent_differs(
        records.values_of(resident), data.consent
    ):
        apply_consent(resident, data.consent, principal, now_utc())
        fields.append("consent")
    if fields:
        # A change of consent alone is its own event, so a withdrawal reads as one on the
        # feed; consumers still act on the payload's ``consent``, whatever the event.
        event = "consent" if fields == ["consent"] else "updated"
        changed(session, principal, resident, event, fields, settings)


def verify(
    session: Session, principal: Principal, resident_id: str, settings: RegistrySettings
) -> Resident:
    resident = access.get_editable(session, principal, resident_id)
    if resident.status == "archived":
        raise Conflict("an archived resident cannot be verified")
    if resident.verified_at is None:
        resident.verified_at = now_utc()
        if resident.status == "registered":
            resident.status = "verified"
        changed(session, principal, resident, "verified", ["status"], settings)
    return resident


def set_priority(
    session: Session,
    principal: Principal,
    resident_id: str,
    rank: int | None,
    settings: RegistrySettings,
) -> Resident:
    resident = access.get_editable(session, principal, resident_id)
    if resident.priority_rank == rank:
        return resident
    if rank is not None and resident.status == "archived":
        raise Conflict("an archived resident cannot be prioritised")
    if rank is not None:
        holder = session.scalars(
            select(col(Resident.id)).where(
                col(Resident.village_code) == resident.village_code,
                col(Resident.priority_rank) == rank,
            )
        ).first()
        if holder:
            raise Conflict(
                "another resident of this village holds this rank; move that one first",
                holder_resident_id=holder,
            )
    resident.priority_rank = rank
    try:
        with session.begin_nested():
            changed(session, principal, resident, "priority", ["priority_rank"], settings)
    except IntegrityError as exc:
        raise Conflict("another resident of this village took this rank meanwhile") from exc
    return resident


def erase(
    session: Session, principal: Principal, resident_id: str, settings: RegistrySettings
) -> Resident:
    """Right to erasure (UU PDP art. 8, 43): the person's personal data goes from every copy
    the registry keeps, aggregate fields stay so counts stay right.

    Reached: the resident and every record of the same person (residents merged into it, and
    registrations held for NIK review against it: the same NIK); their follow-up notes (free
    text, which names, phones and NIKs get written into); the free-text purposes of their
    audit records (scrubbed of the erased values, the record itself stays: who saw what when
    is kept); their NIK reviews (closed); their disclosures (ended). The history and the feed
    hold no values by design; import files are deleted when their job ends and the row report
    holds no cell values. tests/registry/test_erasure.py walks every table to prove it; their
    messages lose the number and their complaints the text (test_notifications_inbound).
    """
    resident = access.get_editable(session, principal, resident_id)
    if resident.erased_at is not None:
        return resident
    records = _records_of_person(session, resident)
    ids = [record.id for record in records]
    erased_values = sorted({v for record in records for v in _personal_values(record)})
    niks = [record.nik for record in records if record.nik]
    at = now_utc()
    for record in records:
        _erase_fields(record, principal, at)
        record_access(session, principal, [record.id], action="resident.erase", purpose="erasure")
        changed(
            session,
            principal,
            record,
            "erased",
            [*PERSONAL_FIELDS, "birth_date", "consent", "status"],
            settings,
        )
    session.execute(
        sql_update(FollowUp).where(col(FollowUp.resident_id).in_(ids)).values(notes=None)
    )
    _scrub_audit(session, ids, erased_values)
    session.execute(
        sql_update(NikReview)
        .where(
            or_(col(NikReview.resident_id).in_(ids), col(NikReview.existing_resident_id).in_(ids)),
            col(NikReview.status) == "pending",
        )
        .values(status="erased", resolved_by=principal.org_id, resolved_at=at)
    )
    # A registration rejected in review (a wrong NIK, another person) and an edit of another
    # resident held for review against this one keep their own data, not the erased NIK.
    session.execute(
        sql_update(Resident).where(col(Resident.held_nik).in_(niks)).values(held_nik=None)
    )
    session.execute(
        sql_update(Resident).where(col(Resident.pending_nik).in_(niks)).values(pending_nik=None)
    )
    # Messages keep no number and no code that answers for them; those not sent never are.
    # Complaints they opened keep their category, place and dates, not their words.
    session.execute(
        sql_update(Notification)
        .where(col(Notification.resident_id).in_(ids))
        .values(to_phone=None, reply_code=None)
    )
    session.execute(
        sql_update(Notification)
        .where(col(Notification.resident_id).in_(ids), col(Notification.status) == "queued")
        .values(status="failed", last_error="resident erased")
    )
    session.execute(
        sql_update(Grievance)
        .where(col(Grievance.resident_id).in_(ids))
        .values(description="", resolution=None)
    )
    # No provider reads the person again: disclosures end today (the rows stay, as the audit).
    yesterday = at.date() - timedelta(days=1)
    session.execute(
        sql_update(Disclosure)
        .where(col(Disclosure.resident_id).in_(ids), col(Disclosure.valid_until) > yesterday)
        .values(valid_until=yesterday)
    )
    session.flush()
    return resident


def _records_of_person(session: Session, resident: Resident) -> list[Resident]:
    """The resident and, transitively, every resident that is the same person by the
    registry's own decision (merged into it) or by its NIK (a new registration held for
    review against it, still pending; a held edit of another resident is that resident's
    own record and only loses the NIK). Locked, as the resident is."""
    found = {resident.id: resident}
    frontier = [resident.id]
    while frontier:
        held = select(col(NikReview.resident_id)).where(
            col(NikReview.existing_resident_id).in_(frontier), col(NikReview.status) == "pending"
        )
        more = session.scalars(
            select(Resident)
            .where(
                or_(
                    col(Resident.merged_into).in_(frontier),
                    col(Resident.id).in_(held) & col(Resident.held_nik).is_not(None),
                ),
                col(Resident.erased_at).is_(None),
            )
            .with_for_update()
        ).all()
        frontier = [r.id for r in more if r.id not in found]
        found.update({r.id: r for r in more})
    return list(found.values())


def _personal_values(resident: Resident) -> list[str]:
    """Every value of this resident that erasure must find and remove in free text, in the
    forms people write them (a phone as +62…, 62… and 0…)."""
    values = [
        resident.nik,
        resident.held_nik,
        resident.pending_nik,
        resident.family_card_number,
        resident.full_name,
        resident.address,
        resident.birth_date.isoformat(),
    ]
    if resident.phone:
        local = resident.phone.removeprefix("+62")
        values += [resident.phone, "62" + local, "0" + local]
    return [v for v in values if v and len(v) >= 4]


def _erase_fields(resident: Resident, principal: Principal, at: datetime) -> None:
    for name in PERSONAL_FIELDS:
        setattr(resident, name, None)
    resident.name_key = None
    resident.held_nik = None
    resident.pending_nik = None
    # The month is what the feed already publishes; the day would identify.
    resident.birth_date = resident.birth_date.replace(day=1)
    apply_consent(resident, None, principal, at)
    resident.priority_rank = None
    resident.status = "archived"
    resident.erased_at = at


ERASED = "[erased]"


def scrub(text: str | None, values: Sequence[str]) -> str | None:
    """``text`` without any of ``values`` (case-insensitive), each replaced by a marker."""
    if not text:
        return text
    for value in sorted(values, key=len, reverse=True):
        text = re.sub(re.escape(value), ERASED, text, flags=re.IGNORECASE)
    return text


def _scrub_audit(session: Session, resident_ids: list[str], values: Sequence[str]) -> None:
    """The audit records stay (who saw the person's data, when, why), but their purposes are
    the caller's free text, into which a NIK or a name is easily typed."""
    rows = session.execute(
        select(
            col(AuditRecord.id), col(AuditRecord.purpose), col(AuditRecord.stated_purpose)
        ).where(col(AuditRecord.resident_id).in_(resident_ids))
    ).all()
    for row_id, purpose, stated in rows:
        clean, clean_stated = scrub(purpose, values), scrub(stated, values)
        if (clean, clean_stated) != (purpose, stated):
            session.execute(
                sql_update(AuditRecord)
                .where(col(AuditRecord.id) == row_id)
                .values(purpose=clean, stated_purpose=clean_stated)
            )


# --- queries ------------------------------------------------------------------------------


def list_residents(
    session: Session,
    principal: Principal,
    params: PageParams,
    settings: RegistrySettings,
    filters: ResidentFilters,
) -> tuple[list[Resident], str | None]:
    statement = select(Resident).where(access.region_filter(principal))
    if filters.village_code:
        statement = statement.where(col(Resident.village_code) == filters.village_code)
    if filters.district_code:
        statement = statement.where(col(Resident.district_code) == filters.district_code)
    if filters.status:
        statement = statement.where(col(Resident.status) == filters.status)
    if filters.max_decile is not None:
        statement = statement.where(col(Resident.welfare_decile) <= filters.max_decile)
    if filters.in_target_group is not None:
        earliest, latest = birth_date_bounds(settings, now_utc().date())
        target = and_(
            col(Resident.welfare_decile) <= settings.target_max_decile,
            col(Resident.birth_date) > earliest,
            col(Resident.birth_date) <= latest,
        )
        if filters.in_target_group:
            statement = statement.where(target)
        else:
            statement = statement.where(or_(col(Resident.welfare_decile).is_(None), ~target))
    if filters.has_priority is not None:
        column = col(Resident.priority_rank)
        statement = statement.where(
            column.is_not(None) if filters.has_priority else column.is_(None)
        )
    if filters.q:
        term = filters.q.strip()
        if term.isdigit():
            # By the NIK its caller sees (visible_nik): a resident whose NIK edit is held is
            # found by the new NIK, not the old one, as if the edit had been applied.
            statement = statement.where(
                or_(
                    and_(col(Resident.nik).startswith(term), col(Resident.pending_nik).is_(None)),
                    col(Resident.pending_nik).startswith(term),
                    col(Resident.held_nik).startswith(term),
                )
            )
        else:
            key = name_key(term)
            statement = statement.where(col(Resident.name_key).startswith(key, autoescape=True))
    return paginate(session, statement, [table_of(Resident).c.id], params)


def history(
    session: Session, principal: Principal, resident_id: str, params: PageParams
) -> tuple[list[HistoryEntry], str | None]:
    access.get_visible(session, principal, resident_id)
    statement = select(ResidentChange).where(col(ResidentChange.resident_id) == resident_id)
    rows, cursor = paginate(session, statement, [table_of(ResidentChange).c.id], params)
    return [HistoryEntry.model_validate(row, from_attributes=True) for row in rows], cursor
