"""Validation of the common case, a whole column at a time.

A register extract repeats itself: a few villages, two sexes, some thousand birth dates, a
handful of deciles and education levels. Each column's distinct values are checked once
(normalised, then by the rules ``ResidentCreate`` applies), and a row whose every cell passed
is built straight from the checked values. A row this cannot accept *for certain* (a cell any
check doubts, a consent column, a missing required value, too many cells) is left to
``rows.validate_row``, so every rejection is worded exactly as before; this path only ever
accepts, and accepts exactly what ``validate_row`` would, with the same values.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from functools import cache, partial
from itertools import compress
from operator import is_not
from typing import Any, get_args

from services.registry import access
from services.registry.imports import layouts
from services.registry.imports.rows import (
    CONSENT_COLUMNS,
    LIST_SEPARATOR,
    REQUIRED_COLUMNS,
    RowOutcome,
)
from services.registry.residents import nik as nik_rules
from services.registry.residents.models import (
    DisabilityKind,
    EmploymentStatus,
    Sex,
    normalise_phone,
)
from shared.kit.tokens import Principal
from shared.programme.education import EDUCATION_LEVELS
from shared.programme.regions import regions
from shared.programme.skills import skills

# A cell this path has no certain answer for: the row goes to validate_row.
DOUBT = object()
_DIGITS16 = re.compile(r"^\d{16}$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SMALL_NUMBER = re.compile(r"^[1-9]\d{0,10}$|^0$")
_SEXES = frozenset(get_args(Sex))
_EMPLOYMENT = frozenset(get_args(EmploymentStatus))
_DISABILITY = frozenset(get_args(DisabilityKind))
_EDUCATION = frozenset(EDUCATION_LEVELS)


@cache
def _villages() -> frozenset[str]:
    # Asked for by every batch of every job; the region table is read once per process.
    return frozenset(code for code, region in regions().items() if region.level == "village")


def _text(limit: int) -> Callable[[str], Any]:
    def check(value: str) -> Any:
        return value if 0 < len(value) <= limit and value == value.strip() else DOUBT

    return check


def _one_of(allowed: frozenset[str]) -> Callable[[str], Any]:
    return lambda value: value if value in allowed else DOUBT


def _number(low: int, high: int) -> Callable[[str], Any]:
    def check(value: str) -> Any:
        if not _SMALL_NUMBER.match(value):
            return DOUBT
        number = int(value)
        return number if low <= number <= high else DOUBT

    return check


def _birth_date(value: str) -> Any:
    if not _ISO_DATE.match(value):
        return DOUBT
    try:
        born = date.fromisoformat(value)
    except ValueError:
        return DOUBT
    if born.year < 1900 or born > datetime.now(UTC).date():
        return DOUBT
    return born


def _family_card(value: str) -> Any:
    return value if _DIGITS16.match(value) else DOUBT


def _nik(value: str) -> Any:
    if not _DIGITS16.match(value) or not _nik_parts_valid(
        value[:2], value[6:12], value[12:] == "0000"
    ):
        return DOUBT
    return value


@cache
def _nik_parts_valid(province: str, born: str, no_serial: bool) -> bool:
    """``format_problem`` reads only these parts of a NIK (its issuing district never), so
    it is asked once per distinct parts."""
    serial = "0000" if no_serial else "0001"
    return nik_rules.format_problem(f"{province}0000{born}{serial}") is None


def _phone(value: str) -> Any:
    try:
        return normalise_phone(value)
    except ValueError:
        return DOUBT


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(LIST_SEPARATOR) if part.strip()]


def _skills(value: str) -> Any:
    slugs = _split(value)
    known = skills()
    if len(slugs) > 40 or any(slug not in known for slug in slugs):
        return DOUBT
    return list(dict.fromkeys(slugs))


def _disability(value: str) -> Any:
    kinds = _split(value)
    if len(kinds) > 6 or any(kind not in _DISABILITY for kind in kinds):
        return DOUBT
    return sorted(set(kinds))


@cache
def _checks() -> dict[str, tuple[Callable[[str], Any], bool]]:
    """Each field's check, and whether its distinct values are few enough to remember."""
    return {
        "nik": (_nik, False),
        "family_card_number": (_family_card, False),
        "full_name": (_text(120), False),
        "sex": (_one_of(_SEXES), True),
        "birth_date": (_birth_date, True),
        "village_code": (_one_of(_villages()), True),
        "address": (_text(300), False),
        "phone": (_phone, False),
        "education_level": (_one_of(_EDUCATION), True),
        "skills": (_skills, True),
        "employment_status": (_one_of(_EMPLOYMENT), True),
        "monthly_income_idr": (_number(0, 10_000_000_000), True),
        "household_size": (_number(1, 50), True),
        "welfare_decile": (_number(1, 10), True),
        "disability": (_disability, True),
    }


def _column(
    cells: Sequence[str], name: str, check: Callable[[str], Any], remembered: bool
) -> list[Any]:
    """The column's checked values: None for an empty cell, DOUBT for a doubtful one."""
    normalise = layouts.NORMALISERS.get(name)
    if normalise is not None:
        plain = check
        check = lambda cell: plain(normalise(cell))  # noqa: E731 - composed once per column
    if not remembered:
        return [check(cell) if cell else None for cell in cells]
    # Each distinct cell checked once, then the column looked up in C (``map``).
    seen: dict[str, Any] = {cell: check(cell) for cell in set(cells) if cell}
    seen[""] = None
    return list(map(seen.__getitem__, cells))


_is_given = partial(is_not, None)


def _positions(values: list[Any], marker: Any) -> set[int]:
    """Where ``marker`` (DOUBT or None) stands in a column; counted in C first, since most
    columns hold none."""
    if not values.count(marker):
        return set()
    return {position for position, value in enumerate(values) if value is marker}


def accepted(
    fields: list[str], data: list[list[str]], principal: Principal, *, first_row: int = 2
) -> list[RowOutcome | None]:
    """For each data row (the first numbered ``first_row``), its outcome when this path
    accepts it for certain, else None (an empty row, too, is None: the caller skips it)."""
    width = len(fields)
    if any(name in CONSENT_COLUMNS for name in fields):
        return [None] * len(data)
    checks = _checks()
    names = [name for name in fields if name]
    required = [names.index(name) for name in REQUIRED_COLUMNS if name in names]
    if len(required) < len(REQUIRED_COLUMNS):
        return [None] * len(data)
    if not data:
        return []
    # The rows as columns, transposed in C: a short row padded, a long one cut (and left).
    square = [row if len(row) == width else [*row, *[""] * width][:width] for row in data]
    checked = [
        _column(cells, name, *checks[name])
        for cells, name in zip(zip(*square, strict=True), fields, strict=True)
        if name
    ]
    # Rows left to validate_row: empty or too long, a doubtful cell, a required cell empty.
    left = {position for position, row in enumerate(data) if not row or len(row) > width}
    gaps: set[int] = set()  # rows with an empty optional cell: their values leave it out
    for at, column in enumerate(checked):
        left |= _positions(column, DOUBT)
        (left if at in required else gaps).update(_positions(column, None))
    at_nik, at_sex, at_born, at_village = (
        names.index(name) for name in ("nik", "sex", "birth_date", "village_code")
    )
    consistent: dict[tuple[str, str, date], bool] = {}
    governed: dict[str, bool] = {}
    outcomes: list[RowOutcome | None] = []
    for position, cells in enumerate(zip(*checked, strict=True)):
        if position in left:
            outcomes.append(None)
            continue
        nik, sex, born, village = cells[at_nik], cells[at_sex], cells[at_born], cells[at_village]
        key = (nik[6:12], sex, born)
        if key not in consistent:
            consistent[key] = nik_rules.consistency_problem(nik, sex, born) is None
        if village not in governed:
            governed[village] = access.governs(principal, village)
        if not (consistent[key] and governed[village]):
            outcomes.append(None)
            continue
        if position in gaps:  # the given cells only, picked in C
            given = list(map(_is_given, cells))
            values = dict(zip(compress(names, given), compress(cells, given), strict=True))
        else:
            values = dict(zip(names, cells, strict=True))
        outcomes.append(RowOutcome(row=position + first_row, values=values))
    return outcomes
