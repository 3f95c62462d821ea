"""One import row: text cells to the values of a resident, or the reasons it is rejected.

Rows go through the same model and rules as ``POST /v1/residents``; an empty cell means "not
given", so a list that lacks a column never erases what another source recorded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from services.registry import access
from services.registry.residents import nik as nik_rules
from services.registry.residents.models import WRITABLE_FIELDS, ConsentIn, ResidentCreate
from shared.kit.tokens import Principal

CONSENT_COLUMNS = {"consent_given": "given", "consent_purpose": "purpose", "consent_at": "at"}
COLUMNS = (*WRITABLE_FIELDS, *CONSENT_COLUMNS)
REQUIRED_COLUMNS = ("nik", "full_name", "sex", "birth_date", "village_code")
LIST_COLUMNS = frozenset({"skills", "disability"})
LIST_SEPARATOR = ";"


@dataclass(slots=True)
class RowOutcome:
    row: int
    values: dict[str, Any] = field(default_factory=dict)
    consent: ConsentIn | None = None
    errors: list[tuple[str, str]] = field(default_factory=list)
    # The row's line of the staging table (``staged.Lines``), made where it was validated.
    staged: str | None = None


def _message(error: Any) -> str:
    message = str(error["msg"])
    return message.removeprefix("Value error, ")


def _column(loc: tuple[Any, ...]) -> str:
    if not loc:
        return "row"
    if loc[0] == "consent" and len(loc) > 1:
        return f"consent_{loc[1]}"
    return str(loc[0])


def validate_row(
    row_number: int, header: list[str], cells: list[str], principal: Principal
) -> RowOutcome:
    outcome = RowOutcome(row=row_number)
    raw: dict[str, Any] = {}
    consent: dict[str, Any] = {}
    if len(cells) > len(header):
        outcome.errors.append(("row", f"has {len(cells)} cells but the header has {len(header)}"))
        return outcome
    for name, cell in zip(header, cells, strict=False):
        if not cell or not name:
            continue
        if name in CONSENT_COLUMNS:
            consent[CONSENT_COLUMNS[name]] = cell
        elif name in LIST_COLUMNS:
            raw[name] = [part.strip() for part in cell.split(LIST_SEPARATOR) if part.strip()]
        else:
            raw[name] = cell
    if consent:
        raw["consent"] = consent
    try:
        model = ResidentCreate.model_validate(raw)
    except ValidationError as exc:
        outcome.errors = [(_column(e["loc"]), _message(e)) for e in exc.errors()]
        return outcome
    problem = nik_rules.consistency_problem(model.nik, model.sex, model.birth_date)
    if problem:
        outcome.errors.append(("nik", problem))
    if not access.governs(principal, model.village_code):
        outcome.errors.append(("village_code", "is outside the region your organisation governs"))
    if outcome.errors:
        return outcome
    outcome.values = model.model_dump(include=model.model_fields_set - {"consent"})
    outcome.consent = model.consent
    return outcome
