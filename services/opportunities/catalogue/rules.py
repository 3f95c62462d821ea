"""Rules across fields, checked on the opportunity as it will be stored (after a PATCH is
applied, too). Each broken rule names its field, so a client knows what to fix."""

from __future__ import annotations

from datetime import datetime

from services.opportunities.catalogue.models import (
    ANY_AGE_KINDS,
    PRODUCTIVE_AGE,
    OpportunityFields,
)
from shared.kit.time import as_utc
from shared.programme import regions

FieldError = tuple[str, str]


def check(fields: OpportunityFields, *, regency_code: str, now: datetime) -> list[FieldError]:
    errors: list[FieldError] = []
    errors += _ages(fields)
    errors += _dates(fields, now)
    errors += _money(fields)
    errors += _regions(fields, regency_code)
    if fields.sex != "any" and not fields.sex_reason:
        errors.append(
            (
                "sex_reason",
                "an offer limited to one sex must state why (e.g. a women's cooperative)",
            )
        )
    if fields.sex == "any" and fields.sex_reason:
        errors.append(("sex_reason", "only given when sex is F or M"))
    return errors


def _ages(fields: OpportunityFields) -> list[FieldError]:
    errors: list[FieldError] = []
    if fields.kind not in ANY_AGE_KINDS:
        low, high = PRODUCTIVE_AGE
        for name in ("min_age", "max_age"):
            value = getattr(fields, name)
            if value is not None and not low <= value <= high:
                errors.append(
                    (name, f"must be within the productive age {low}-{high} for kind {fields.kind}")
                )
    if (
        fields.min_age is not None
        and fields.max_age is not None
        and fields.min_age > fields.max_age
    ):
        errors.append(("max_age", "must not be below min_age"))
    return errors


def _dates(fields: OpportunityFields, now: datetime) -> list[FieldError]:
    errors: list[FieldError] = []
    if fields.start_date and fields.end_date and fields.end_date < fields.start_date:
        errors.append(("end_date", "must not be before start_date"))
    valid_through = as_utc(fields.valid_through)
    if valid_through is not None:
        if fields.end_date and valid_through.date() > fields.end_date:
            errors.append(("valid_through", "applications cannot close after end_date"))
        if fields.status == "open" and valid_through <= now:
            errors.append(("valid_through", "has already passed; an open offer must be current"))
    return errors


def _money(fields: OpportunityFields) -> list[FieldError]:
    errors: list[FieldError] = []
    if fields.grant_amount_idr is not None and fields.kind != "business_capital":
        errors.append(("grant_amount_idr", "only a business_capital offer carries a grant"))
    if fields.kind == "business_capital" and fields.grant_amount_idr is None:
        errors.append(("grant_amount_idr", "a business_capital offer states its grant amount"))
    return errors


def _regions(fields: OpportunityFields, regency_code: str) -> list[FieldError]:
    errors: list[FieldError] = []
    village = fields.location_village_code
    if village is not None:
        if not regions.is_known(village, "village"):
            errors.append(("location_village_code", f"{village} is not a known village code"))
        elif not regions.within(village, regency_code):
            errors.append(
                ("location_village_code", f"{village} is outside the programme's regency")
            )
    for index, code in enumerate(fields.eligible_area_codes):
        region = regions.get_region(code)
        if region is None or region.level not in ("district", "village"):
            errors.append(
                (f"eligible_area_codes.{index}", f"{code} is not a known district or village")
            )
        elif not regions.within(code, regency_code):
            errors.append(
                (f"eligible_area_codes.{index}", f"{code} is outside the programme's regency")
            )
    return errors
