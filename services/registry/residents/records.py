"""What a resident record derives from what was written to it, in one place.

Both writers of residents use these rules: the API (``residents/service.py``, one ORM object
at a time) and the bulk import (``imports/bulk.py``, plain rows by the thousand). So the rules
work on values, not on either writer's objects: the district and regency follow the village,
a village change clears the priority rank, ``name_key`` follows the name, consent moves
through given / refused / withdrawn, and the history, NIK review and feed rows are built
alike.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Collection, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from services.registry.residents.models import ConsentIn, Resident
from services.registry.settings import RegistrySettings
from shared.kit.database import table_of
from shared.kit.time import as_utc, utcnow
from shared.kit.tokens import Principal
from shared.programme.regions import district_of, regency_of

ENTITY = "resident"
COLUMNS = tuple(column.name for column in table_of(Resident).c)
# Stored as JSON lists; a row read back may hold None where the API object holds [].
LIST_FIELDS = frozenset({"skills", "disability"})
CONSENT_WITHHELD = frozenset({"refused", "withdrawn"})


def new_id() -> str:
    return str(uuid.uuid4())


def values_of(resident: Resident) -> dict[str, Any]:
    """The resident's columns as a row, for the rules below."""
    return {name: getattr(resident, name) for name in COLUMNS}


# --- derived fields -----------------------------------------------------------------------


def name_key(full_name: str) -> str:
    """Name as duplicates are compared: no accents, case, punctuation or repeated spaces."""
    decomposed = unicodedata.normalize("NFKD", full_name)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return " ".join(re.sub(r"[^\w\s]", " ", plain).split())


def changed_fields(current: Mapping[str, Any], values: Mapping[str, Any]) -> list[str]:
    """The names of ``values`` that differ from the record, in the order given."""
    fields = []
    for name, value in values.items():
        old = current[name]
        if name in LIST_FIELDS:
            old = list(old or [])
        if old != value:
            fields.append(name)
    return fields


def follow(fields: Collection[str], record: Mapping[str, Any]) -> dict[str, Any]:
    """What changes with ``fields`` (just written to ``record``): the district and regency
    with the village, the name key with the name."""
    derived: dict[str, Any] = {}
    if "village_code" in fields:
        village = record["village_code"]
        derived["district_code"] = district_of(village) or ""
        derived["regency_code"] = regency_of(village) or ""
        # A rank belongs to a village; it does not travel with the resident.
        derived["priority_rank"] = None
    if "full_name" in fields:
        derived["name_key"] = name_key(record["full_name"] or "")
    if "welfare_decile" in fields:
        # A decile written here (an edit, or an import of no edition) speaks from today; an
        # import of a register edition stamps its own (imports/bulk.py).
        given = record["welfare_decile"] is not None
        derived["decile_source"] = derived["decile_edition"] = None
        derived["decile_effective_on"] = utcnow().date() if given else None
    return derived


def age_on(birth_date: date, today: date) -> int:
    return (
        today.year
        - birth_date.year
        - ((today.month, today.day) < (birth_date.month, birth_date.day))
    )


def derived(
    birth_date: date, welfare_decile: int | None, settings: RegistrySettings, today: date
) -> dict[str, Any]:
    age = age_on(birth_date, today)
    productive = settings.productive_age_min <= age <= settings.productive_age_max
    target = (
        productive and welfare_decile is not None and welfare_decile <= settings.target_max_decile
    )
    return {"age": age, "productive_age": productive, "in_target_group": target}


# --- consent ------------------------------------------------------------------------------


def consent_word(given: bool | None, status: str | None) -> str | None:
    """The feed's word for consent (docs/contracts.md): "given", "refused", "withdrawn" or
    null when none was recorded. Derived from ``consent_given`` first, so a writer that set
    only the flag can never publish consent a resident took back."""
    if given is None:
        return None
    if given:
        return "given"
    return "withdrawn" if status == "withdrawn" else "refused"


def next_consent_status(previous: str | None, given: bool | None) -> str | None:
    """Consent refused after it was given is a withdrawal (and stays one when refused again)."""
    if given is None:
        return None
    if given:
        return "given"
    return "withdrawn" if previous in ("given", "withdrawn") else "refused"


def consent_differs(record: Mapping[str, Any], consent: ConsentIn | None) -> bool:
    if consent is None:
        return record["consent_given"] is not None
    return (record["consent_given"], record["consent_purpose"]) != (
        consent.given,
        consent.purpose,
    ) or (consent.at is not None and as_utc(record["consent_at"]) != consent.at)


def consent_fields(
    record: Mapping[str, Any], consent: ConsentIn | None, recorded_by: str, at: datetime
) -> dict[str, Any]:
    """The consent columns once ``consent`` is recorded (None clears them)."""
    if consent is None:
        return dict.fromkeys(
            (
                "consent_given",
                "consent_purpose",
                "consent_at",
                "consent_recorded_by",
                "consent_status",
            )
        )
    previous = consent_word(record["consent_given"], record["consent_status"])
    return {
        "consent_status": next_consent_status(previous, consent.given),
        "consent_given": consent.given,
        "consent_purpose": consent.purpose,
        "consent_at": consent.at or at,
        "consent_recorded_by": recorded_by,
    }


# --- the rows written with a resident -----------------------------------------------------


def history_row(
    principal: Principal,
    resident_id: str,
    version: int,
    event: str,
    fields: Sequence[str],
    at: datetime,
) -> dict[str, Any]:
    return {
        "resident_id": resident_id,
        "version": version,
        "event": event,
        "fields": sorted(fields),
        "org_id": principal.org_id,
        "org_type": principal.org_type,
        "subject": principal.subject,
        "changed_at": at,
    }


def decile_row(
    principal: Principal, resident_id: str, record: Mapping[str, Any], at: datetime
) -> dict[str, Any]:
    """The decile history entry of the decile ``record`` holds now."""
    return {
        "resident_id": resident_id,
        "welfare_decile": record["welfare_decile"],
        "source": record["decile_source"],
        "edition": record["decile_edition"],
        "effective_on": record["decile_effective_on"],
        "org_id": principal.org_id,
        "recorded_at": at,
    }


def review_row(
    resident_id: str, holder_id: str, principal: Principal, at: datetime
) -> dict[str, Any]:
    """The NIK review of a registration held because ``holder_id`` has its NIK."""
    return {
        "id": new_id(),
        "resident_id": resident_id,
        "existing_resident_id": holder_id,
        "status": "pending",
        "submitted_by": principal.org_id,
        "submitted_at": at,
    }


def snapshot(
    record: Mapping[str, Any], settings: RegistrySettings, today: date | None = None
) -> dict[str, Any]:
    """The non-personal payload of docs/contracts.md: no NIK, name, phone, address or exact
    birth date (month only)."""
    today = today or utcnow().date()
    extra = derived(record["birth_date"], record["welfare_decile"], settings, today)
    return {
        "id": record["id"],
        "version": record["version"],
        "village_code": record["village_code"],
        "district_code": record["district_code"],
        "regency_code": record["regency_code"],
        "birth_month": record["birth_date"].strftime("%Y-%m"),
        "age": extra["age"],
        "sex": record["sex"],
        "education_level": record["education_level"],
        "skills": list(record["skills"] or []),
        "employment_status": record["employment_status"],
        "welfare_decile": record["welfare_decile"],
        # The register edition the decile comes from, so reporting can compare editions.
        "decile_source": record.get("decile_source"),
        "decile_edition": record.get("decile_edition"),
        # The day that decile speaks from: a cohort's "left the targeted deciles" needs it.
        "decile_effective_on": _day(record.get("decile_effective_on")),
        "household_size": record["household_size"],
        "disability": list(record["disability"] or []),
        "productive_age": extra["productive_age"],
        "in_target_group": extra["in_target_group"],
        "status": record["status"],
        "priority_rank": record["priority_rank"],
        "registered_at": iso(as_utc(record["registered_at"])),
        "verified_at": iso(as_utc(record["verified_at"])),
        "independent_at": iso(as_utc(record["independent_at"])),
        "follow_up": None,
        # Set on "enrolled" (the cohort and its baseline) and "graduated" / "graduation_revoked".
        "cohort": None,
        "graduation": None,
        "consent": consent_word(record["consent_given"], record["consent_status"]),
    }


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None
