"""A schema.org JobPosting (JSON-LD) mapped to an opportunity.

HR systems and job boards already publish vacancies this way (Google for Jobs reads the same
document), so a company can push what it has without learning our field names:
``identifier`` becomes ``external_id``, ``employmentType`` INTERN an internship and anything
else a job, ``totalJobOpenings`` the slots (1 when absent), ``baseSalary`` the monthly pay,
``validThrough`` itself, and ``jobLocation``'s locality a village of the programme's regency
(or the whole regency, with a warning, when it names none).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session

from services.opportunities.catalogue.models import OpportunityFields
from services.opportunities.catalogue.service import (
    Catalogue,
    InvalidOpportunity,
    upsert_external,
)
from services.opportunities.jobposting.models import JobPostingResult
from shared.kit.tokens import Principal
from shared.programme import regions
from shared.programme.skills import skills

# How many of a period make a month: BPS counts 25 working days and 173 hours a month.
MONTHLY_FACTOR = {"MONTH": 1.0, "YEAR": 1 / 12, "WEEK": 52 / 12, "DAY": 25.0, "HOUR": 173.0}
EDUCATION = {
    "primary school": "primary",
    "elementary school": "primary",
    "middle school": "junior_secondary",
    "junior high school": "junior_secondary",
    "high school": "senior_secondary",
    "vocational high school": "senior_secondary",
    "associate degree": "diploma",
    "professional certificate": "senior_secondary",
    "bachelor degree": "bachelor",
    "postgraduate degree": "postgraduate",
}
OCCUPATION_CODE = re.compile(r"^(\d{1,6})\b")
TAG = re.compile(r"<[^>]+>")
VILLAGE_PREFIX = re.compile(r"^(desa|kelurahan|kel\.|ds\.)\s+", re.IGNORECASE)


@dataclass
class Mapped:
    external_id: str
    fields: OpportunityFields
    warnings: list[str] = field(default_factory=list)


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else value


def _text(value: Any) -> str:
    if isinstance(value, dict):
        value = value.get("value") or value.get("name") or ""
    return str(value).strip() if value is not None else ""


def _plain(text: str) -> str:
    """Job boards send HTML descriptions; we keep the words, not the markup."""
    text = re.sub(r"<\s*(br|/p|/li)\s*/?>", "\n", text, flags=re.IGNORECASE)
    return re.sub(r"\n{3,}", "\n\n", html.unescape(TAG.sub("", text))).strip()


def _squash(name: str) -> str:
    return " ".join(VILLAGE_PREFIX.sub("", name.strip()).casefold().split())


def villages_by_name(regency_code: str) -> dict[str, list[str]]:
    index: dict[str, list[str]] = {}
    for district in regions.children_of(regency_code):
        for village in regions.children_of(district.code):
            index.setdefault(_squash(village.name), []).append(village.code)
    return index


def _locality(posting: dict[str, Any]) -> str | None:
    place = _first(posting.get("jobLocation"))
    if not isinstance(place, dict):
        return None
    address = place.get("address")
    address = _first(address)
    if isinstance(address, dict):
        locality = address.get("addressLocality")
        return str(locality) if locality else None
    return str(address) if isinstance(address, str) and address else None


def _monthly_pay(salary: Any, errors: list[tuple[str, str]]) -> int | None:
    if salary is None:
        return None
    salary = _first(salary)
    if not isinstance(salary, dict):
        errors.append(("baseSalary", "expected a MonetaryAmount"))
        return None
    currency = str(salary.get("currency") or "IDR").upper()
    if currency != "IDR":
        errors.append(("baseSalary.currency", f"only IDR is accepted, not {currency}"))
        return None
    # Anything a job board sent; what float() cannot read is reported below.
    value: Any = salary.get("value")
    unit = "MONTH"
    if isinstance(value, dict):
        unit = str(value.get("unitText") or "MONTH").upper()
        # The guaranteed part of a range is its minimum.
        value = value.get("value", value.get("minValue"))
    try:
        amount = float(value)
    except (TypeError, ValueError):
        errors.append(("baseSalary.value", "expected a number"))
        return None
    if unit not in MONTHLY_FACTOR:
        errors.append(("baseSalary.value.unitText", f"one of {', '.join(MONTHLY_FACTOR)}"))
        return None
    return round(amount * MONTHLY_FACTOR[unit])


def _skills(value: Any, warnings: list[str]) -> list[str]:
    """Free-text skills matched to the vocabulary by slug or label; the rest are reported."""
    if not value:
        return []
    names = value if isinstance(value, list) else re.split(r"[,;\n]", str(value))
    lookup: dict[str, str] = {}
    for skill in skills().values():
        for label in (skill.slug, skill.label_id, skill.label_en):
            lookup[label.casefold()] = skill.slug
    found: list[str] = []
    unmatched: list[str] = []
    for raw in names:
        name = _text(raw)
        if not name:
            continue
        slug = lookup.get(name.casefold())
        (found if slug else unmatched).append(slug or name)
    if unmatched:
        warnings.append("skills not in the vocabulary were left out: " + ", ".join(unmatched[:10]))
    return list(dict.fromkeys(found))


def _occupation_code(value: Any) -> str | None:
    """``occupationalCategory`` is often "8114 Operator mesin" or a bare label ("Mechanic");
    only a leading KBJI/ISCO code is kept."""
    match = OCCUPATION_CODE.match(_text(_first(value)))
    return match.group(1) if match else None


def map_posting(posting: dict[str, Any], regency_code: str) -> Mapped:
    errors: list[tuple[str, str]] = []
    warnings: list[str] = []
    kind_of = posting.get("@type")
    if kind_of not in ("JobPosting", ["JobPosting"]):
        errors.append(("@type", "expected a schema.org JobPosting"))
    external_id = _text(_first(posting.get("identifier")))
    if not external_id:
        errors.append(("identifier", "required: the posting's own reference, to update it later"))
    types = posting.get("employmentType") or []
    types = [types] if isinstance(types, str) else types
    kind = "internship" if any(str(t).upper() == "INTERN" for t in types) else "job"
    openings = posting.get("totalJobOpenings", 1)
    pay = _monthly_pay(posting.get("baseSalary"), errors)
    locality = _locality(posting)
    village_code: str | None = None
    if locality:
        codes = villages_by_name(regency_code).get(_squash(locality), [])
        if len(codes) == 1:
            village_code = codes[0]
        else:
            reason = "matches several villages" if codes else "matches no village"
            warnings.append(
                f"jobLocation addressLocality {locality!r} {reason} of regency {regency_code}; "
                "the opportunity is open to the whole regency"
            )
    else:
        warnings.append(
            "jobLocation has no addressLocality; the opportunity is open to the whole regency"
        )
    education = posting.get("educationRequirements")
    min_education = None
    if isinstance(_first(education), dict):
        category = str(_first(education).get("credentialCategory") or "").casefold()
        min_education = EDUCATION.get(category)
    if errors:
        raise InvalidOpportunity(errors)
    data = {
        "kind": kind,
        "title": _text(posting.get("title")),
        "description": _plain(str(posting.get("description") or ""))[:10_000],
        "occupation_code": _occupation_code(posting.get("occupationalCategory")),
        "skills_required": _skills(posting.get("skills"), warnings),
        "min_education": min_education,
        "location_village_code": village_code,
        "slots": openings,
        "pay_idr": pay,
        "start_date": posting.get("jobStartDate"),
        "valid_through": posting.get("validThrough"),
        "status": "open",
    }
    try:
        fields = OpportunityFields.model_validate(data)
    except ValidationError as exc:
        names = {
            "slots": "totalJobOpenings",
            "pay_idr": "baseSalary",
            "valid_through": "validThrough",
            "start_date": "jobStartDate",
            "title": "title",
        }
        raise InvalidOpportunity(
            [(names.get(str(e["loc"][0]), str(e["loc"][0])), e["msg"]) for e in exc.errors()]
        ) from exc
    return Mapped(external_id=external_id, fields=fields, warnings=warnings)


def upsert_posting(
    session: Session, principal: Principal, posting: dict[str, Any], catalogue: Catalogue
) -> JobPostingResult:
    """Map the posting and create or replace the opportunity of its ``identifier``."""
    mapped = map_posting(posting, catalogue.regency_code)
    outcome = upsert_external(session, principal, mapped.external_id, mapped.fields, catalogue)
    return JobPostingResult(
        opportunity=outcome.opportunity,
        created=outcome.created,
        changed=outcome.changed,
        warnings=mapped.warnings,
    )
