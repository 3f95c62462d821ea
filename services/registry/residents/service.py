"""The business of residents: registering, changing, verifying, ranking, erasing, listing.

Every change bumps ``version``, writes a history entry (field names, not values) and a change
on the feed (non-personal snapshot) in the caller's transaction. Routes never commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlmodel import and_, col, or_, select

from services.registry import access
from services.registry.audit.service import record_access
from services.registry.duplicates.models import NikReview
from services.registry.residents import nik as nik_rules
from services.registry.residents.models import (
    PERSONAL_FIELDS,
    ConsentIn,
    ConsentPublic,
    HistoryEntry,
    Resident,
    ResidentChange,
    ResidentCreate,
    ResidentProviderView,
    ResidentPublic,
    ResidentUpdate,
    ResidentView,
    as_utc,
    name_key,
)
from services.registry.settings import RegistrySettings
from services.registry.tables import feed_tables
from shared.feed import record_change
from shared.pagination import PageParams, paginate
from shared.problems import (
    Conflict,
    Forbidden,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
    UnprocessableEntity,
)
from shared.regions import district_of, regency_of
from shared.tokens import Principal

ENTITY = "resident"
REQUIRED_FIELDS = ("nik", "full_name", "sex", "birth_date", "village_code")


def new_id() -> str:
    return str(uuid.uuid4())


def now_utc() -> datetime:
    return datetime.now(UTC)


# --- derived fields -----------------------------------------------------------------------


def age_on(birth_date: date, today: date) -> int:
    return (
        today.year
        - birth_date.year
        - ((today.month, today.day) < (birth_date.month, birth_date.day))
    )


def derived(resident: Resident, settings: RegistrySettings, today: date) -> dict[str, Any]:
    age = age_on(resident.birth_date, today)
    productive = settings.productive_age_min <= age <= settings.productive_age_max
    decile = resident.welfare_decile
    target = productive and decile is not None and decile <= settings.target_max_decile
    return {"age": age, "productive_age": productive, "in_target_group": target}


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
    return ResidentPublic(
        id=resident.id,
        # A registration held for NIK review shows its caller the NIK it was sent with.
        nik=resident.nik or resident.held_nik,
        family_card_number=resident.family_card_number,
        full_name=resident.full_name,
        sex=resident.sex,
        birth_date=None if resident.erased_at else resident.birth_date,
        village_code=resident.village_code,
        district_code=resident.district_code,
        regency_code=resident.regency_code,
        address=resident.address,
        phone=resident.phone,
        education_level=resident.education_level,
        skills=list(resident.skills or []),
        employment_status=resident.employment_status,
        monthly_income_idr=resident.monthly_income_idr,
        household_size=resident.household_size,
        welfare_decile=resident.welfare_decile,
        disability=list(resident.disability or []),
        consent=consent,
        status=resident.status,
        priority_rank=resident.priority_rank,
        version=resident.version,
        source_org_id=resident.source_org_id,
        merged_into=resident.merged_into,
        registered_at=as_utc(resident.registered_at),
        updated_at=as_utc(resident.updated_at),
        verified_at=as_utc(resident.verified_at),
        independent_at=as_utc(resident.independent_at),
        erased_at=as_utc(resident.erased_at),
        **derived(resident, settings, today),
    )


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


def to_provider_view(resident: Resident) -> ResidentProviderView:
    return ResidentProviderView(
        id=resident.id,
        nik=resident.nik,
        full_name=resident.full_name,
        phone=resident.phone,
        address=resident.address,
        village_code=resident.village_code,
        district_code=resident.district_code,
        education_level=resident.education_level,
        skills=list(resident.skills or []),
        version=resident.version,
    )


def is_provider_reading(principal: Principal) -> bool:
    return access.is_provider(principal)


def etag(resident: Resident) -> str:
    return f'"{resident.version}"'


# --- change feed and history --------------------------------------------------------------


def snapshot(
    resident: Resident, settings: RegistrySettings, today: date | None = None
) -> dict[str, Any]:
    """The non-personal payload of docs/contracts.md: no NIK, name, phone, address or exact
    birth date (month only)."""
    today = today or now_utc().date()
    extra = derived(resident, settings, today)
    registered = as_utc(resident.registered_at)
    return {
        "id": resident.id,
        "version": resident.version,
        "village_code": resident.village_code,
        "district_code": resident.district_code,
        "regency_code": resident.regency_code,
        "birth_month": resident.birth_date.strftime("%Y-%m"),
        "age": extra["age"],
        "sex": resident.sex,
        "education_level": resident.education_level,
        "skills": list(resident.skills or []),
        "employment_status": resident.employment_status,
        "welfare_decile": resident.welfare_decile,
        "household_size": resident.household_size,
        "disability": list(resident.disability or []),
        "productive_age": extra["productive_age"],
        "in_target_group": extra["in_target_group"],
        "status": resident.status,
        "priority_rank": resident.priority_rank,
        "registered_at": _iso(registered),
        "verified_at": _iso(as_utc(resident.verified_at)),
        "independent_at": _iso(as_utc(resident.independent_at)),
        "follow_up": None,
        "consent": consent_word(resident),
    }


CONSENT_WITHHELD = frozenset({"refused", "withdrawn"})


def consent_word(resident: Resident) -> str | None:
    """The feed's word for consent (docs/contracts.md): "given", "refused", "withdrawn" or
    null when none was recorded. Derived from ``consent_given`` first, so a writer that set
    only the flag (the bulk import) can never publish consent a resident took back."""
    if resident.consent_given is None:
        return None
    if resident.consent_given:
        return "given"
    return "withdrawn" if getattr(resident, "consent_status", None) == "withdrawn" else "refused"


def next_consent_status(previous: str | None, given: bool | None) -> str | None:
    """Consent refused after it was given is a withdrawal (and stays one when refused again)."""
    if given is None:
        return None
    if given:
        return "given"
    return "withdrawn" if previous in ("given", "withdrawn") else "refused"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


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
    payload = snapshot(resident, settings)
    payload.update(extra)
    record_change(
        session,
        feed_tables,
        entity=ENTITY,
        entity_id=resident.id,
        event=event,
        version=resident.version,
        payload=payload,
    )


def history_row(
    principal: Principal, resident: Resident, event: str, fields: Sequence[str], at: datetime
) -> dict[str, Any]:
    return {
        "resident_id": resident.id,
        "version": resident.version,
        "event": event,
        "fields": sorted(fields),
        "org_id": principal.org_id,
        "org_type": principal.org_type,
        "subject": principal.subject,
        "changed_at": at,
    }


def log_change(
    session: Session, principal: Principal, resident: Resident, event: str, fields: Sequence[str]
) -> None:
    session.execute(
        insert(ResidentChange), [history_row(principal, resident, event, fields, now_utc())]
    )


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


def place(resident: Resident, village_code: str) -> None:
    resident.village_code = village_code
    resident.district_code = district_of(village_code) or ""
    resident.regency_code = regency_of(village_code) or ""


def apply_consent(
    resident: Resident, consent: ConsentIn | None, principal: Principal, at: datetime
) -> None:
    if consent is None:
        resident.consent_given = None
        resident.consent_purpose = None
        resident.consent_at = None
        resident.consent_recorded_by = None
        resident.consent_status = None
        return
    resident.consent_status = next_consent_status(consent_word(resident), consent.given)
    resident.consent_given = consent.given
    resident.consent_purpose = consent.purpose
    resident.consent_at = consent.at or at
    resident.consent_recorded_by = principal.org_id


def existing_id_by_nik(session: Session, nik: str) -> str | None:
    return session.scalars(select(col(Resident.id)).where(col(Resident.nik) == nik)).first()


def nik_taken(existing_id: str) -> Conflict:
    return Conflict(
        "a resident with this NIK is already registered",
        existing_resident_id=existing_id,
    )


def nik_conflict_or_hold(session: Session, principal: Principal, nik: str) -> str | None:
    """What registering ``nik`` meets, as this caller may know it (issue 13, item 2).

    Raises 409 with the id when the caller can see the resident holding the NIK (or its own
    earlier registration of it, still held for review: a second try must answer as it would
    for a fresh one). Returns the id of a holder the caller cannot see: the registration is
    then held for the agencies' review and answered like any new one, so the NIK's existence
    outside the caller's region is not disclosed. None when the NIK is free.
    """
    holder = session.scalars(select(Resident).where(col(Resident.nik) == nik)).first()
    if holder is None:
        return None
    if access.governs(principal, holder.village_code):
        raise nik_taken(holder.id)
    own = session.scalars(
        select(col(Resident.id)).where(
            col(Resident.held_nik) == nik,
            col(Resident.merged_into).is_(None),
            access.region_filter(principal),
        )
    ).first()
    if own is not None:
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
    resident = Resident(
        id=new_id(),
        source_org_id=principal.org_id,
        registered_at=at,
        updated_at=at,
        name_key=name_key(data.full_name),
        **data.model_dump(exclude={"consent", "village_code"}),
    )
    place(resident, data.village_code)
    if data.consent is not None:
        apply_consent(resident, data.consent, principal, at)
    if hidden_holder is None:
        try:
            with session.begin_nested():
                session.add(resident)
                session.flush()
        except IntegrityError:
            # Another request registered the same NIK between our check and our insert.
            hidden_holder = nik_conflict_or_hold(session, principal, data.nik)
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


def review_row(
    resident_id: str, holder_id: str, principal: Principal, at: datetime
) -> dict[str, Any]:
    return {
        "id": new_id(),
        "resident_id": resident_id,
        "existing_resident_id": holder_id,
        "status": "pending",
        "submitted_by": principal.org_id,
        "submitted_at": at,
    }


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
    new_nik = str(values.get("nik", resident.nik))
    check_nik_consistency(
        new_nik, values.get("sex", resident.sex), values.get("birth_date", resident.birth_date)
    )
    if new_nik != resident.nik:
        existing = existing_id_by_nik(session, new_nik)
        if existing and existing != resident.id:
            raise nik_taken(existing)
    try:
        # The savepoint opens before the first attribute changes, so a NIK the unique
        # constraint refuses rolls back this edit alone, never the request's transaction.
        with session.begin_nested():
            _apply_update(session, principal, resident, data, values, settings)
    except IntegrityError as exc:
        # Another request took this NIK between our check and our write: the constraint
        # decides, and the caller hears 409 as if the check had seen it.
        holder = nik_holder(session, new_nik) if new_nik != resident.nik else None
        if holder is None or holder == resident.id:
            raise
        raise nik_taken(holder) from exc
    return resident


def _apply_update(
    session: Session,
    principal: Principal,
    resident: Resident,
    data: ResidentUpdate,
    values: dict[str, Any],
    settings: RegistrySettings,
) -> None:
    fields = [name for name, value in values.items() if getattr(resident, name) != value]
    for name in fields:
        if name == "village_code":
            place(resident, values[name])
        else:
            setattr(resident, name, values[name])
    if "full_name" in fields:
        resident.name_key = name_key(resident.full_name or "")
    if "village_code" in fields:
        # A rank belongs to a village; it does not travel with the resident.
        resident.priority_rank = None
    if "consent" in data.model_fields_set and _consent_differs(resident, data.consent):
        apply_consent(resident, data.consent, principal, now_utc())
        fields.append("consent")
    if fields:
        # A change of consent alone is its own event, so a withdrawal reads as one on the
        # feed; consumers still act on the payload's ``consent``, whatever the event.
        event = "consent" if fields == ["consent"] else "updated"
        changed(session, principal, resident, event, fields, settings)


def nik_holder(session: Session, nik: str) -> str | None:
    """Who holds this NIK now, read after a unique-constraint failure (not the pre-check)."""
    return session.scalars(select(col(Resident.id)).where(col(Resident.nik) == nik)).first()


def _consent_differs(resident: Resident, consent: ConsentIn | None) -> bool:
    if consent is None:
        return resident.consent_given is not None
    return (resident.consent_given, resident.consent_purpose) != (
        consent.given,
        consent.purpose,
    ) or (consent.at is not None and as_utc(resident.consent_at) != consent.at)


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
    """Right to erasure: personal fields go, aggregate fields stay so counts stay right."""
    resident = access.get_editable(session, principal, resident_id)
    if resident.erased_at is not None:
        return resident
    for name in PERSONAL_FIELDS:
        setattr(resident, name, None)
    resident.name_key = None
    resident.held_nik = None
    # The month is what the feed already publishes; the day would identify.
    resident.birth_date = resident.birth_date.replace(day=1)
    apply_consent(resident, None, principal, now_utc())
    resident.priority_rank = None
    resident.status = "archived"
    resident.erased_at = now_utc()
    record_access(session, principal, [resident.id], action="resident.erase", purpose="erasure")
    changed(
        session,
        principal,
        resident,
        "erased",
        [*PERSONAL_FIELDS, "birth_date", "consent", "status"],
        settings,
    )
    return resident


# --- queries ------------------------------------------------------------------------------


def list_residents(
    session: Session,
    principal: Principal,
    params: PageParams,
    settings: RegistrySettings,
    *,
    village_code: str | None = None,
    district_code: str | None = None,
    status: str | None = None,
    max_decile: int | None = None,
    in_target_group: bool | None = None,
    has_priority: bool | None = None,
    q: str | None = None,
) -> tuple[list[Resident], str | None]:
    statement = select(Resident).where(access.region_filter(principal))
    if village_code:
        statement = statement.where(col(Resident.village_code) == village_code)
    if district_code:
        statement = statement.where(col(Resident.district_code) == district_code)
    if status:
        statement = statement.where(col(Resident.status) == status)
    if max_decile is not None:
        statement = statement.where(col(Resident.welfare_decile) <= max_decile)
    if in_target_group is not None:
        earliest, latest = birth_date_bounds(settings, now_utc().date())
        target = and_(
            col(Resident.welfare_decile) <= settings.target_max_decile,
            col(Resident.birth_date) > earliest,
            col(Resident.birth_date) <= latest,
        )
        if in_target_group:
            statement = statement.where(target)
        else:
            statement = statement.where(or_(col(Resident.welfare_decile).is_(None), ~target))
    if has_priority is not None:
        column = col(Resident.priority_rank)
        statement = statement.where(column.is_not(None) if has_priority else column.is_(None))
    if q:
        term = q.strip()
        if term.isdigit():
            statement = statement.where(
                or_(col(Resident.nik).startswith(term), col(Resident.held_nik).startswith(term))
            )
        else:
            key = name_key(term)
            statement = statement.where(col(Resident.name_key).startswith(key, autoescape=True))
    return paginate(session, statement, [col(Resident.id)], params)  # type: ignore[list-item]


def history(
    session: Session, principal: Principal, resident_id: str, params: PageParams
) -> tuple[list[HistoryEntry], str | None]:
    access.get_visible(session, principal, resident_id)
    statement = select(ResidentChange).where(col(ResidentChange.resident_id) == resident_id)
    rows, cursor = paginate(session, statement, [col(ResidentChange.id)], params)  # type: ignore[list-item]
    return [
        HistoryEntry(
            version=row.version,
            event=row.event,
            fields=list(row.fields),
            org_id=row.org_id,
            org_type=row.org_type,
            subject=row.subject,
            changed_at=as_utc(row.changed_at),
        )
        for row in rows
    ], cursor
