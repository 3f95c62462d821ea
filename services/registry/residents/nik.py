"""NIK (Nomor Induk Kependudukan) rules, DESIGN.md: 16 digits; digits 1-2 a province, 1-6 the
issuing district (never checked: boundaries change and people move); 7-12 the birth date as
DDMMYY with 40 added to the day for women; 13-16 a serial that is not 0000.

Each rule has its own message, so a village operator knows which digit to look at. Messages
never repeat the NIK itself: they end up in import reports and problem responses.
"""

from __future__ import annotations

from datetime import date
from functools import cache

from shared.programme import regions

WOMAN_DAY_OFFSET = 40


@cache
def province_codes() -> frozenset[str]:
    # shared.programme.regions scans the whole reference list on each call; a bulk import asks
    # 100,000 times.
    return regions.province_codes()


def format_problem(nik: str) -> str | None:
    """The first rule the NIK breaks on its own, or None."""
    if len(nik) != 16 or not nik.isascii() or not nik.isdigit():
        return "must be exactly 16 digits"
    if nik[:2] not in province_codes():
        return f"digits 1-2 ({nik[:2]}) are not a known province code"
    if _encoded_date(nik) is None:
        return "digits 7-12 are not a valid birth date (DDMMYY, day + 40 for women)"
    if nik[12:] == "0000":
        return "serial (digits 13-16) must not be 0000"
    return None


def _encoded_date(nik: str) -> tuple[int, int, int, bool] | None:
    """(day, month, two-digit year, is_woman) from digits 7-12, or None when impossible."""
    day, month, year = int(nik[6:8]), int(nik[8:10]), int(nik[10:12])
    woman = day > WOMAN_DAY_OFFSET
    if woman:
        day -= WOMAN_DAY_OFFSET
    # 29 February needs a leap year; the century is unknown, so try both.
    for century in (1900, 2000):
        try:
            date(century + year, month, day)
        except ValueError:
            continue
        return day, month, year, woman
    return None


def consistency_problem(nik: str, sex: str, birth_date: date) -> str | None:
    """Whether a well-formed NIK agrees with the resident's sex and birth date."""
    encoded = _encoded_date(nik)
    if encoded is None:  # format_problem reports it
        return None
    day, month, year, woman = encoded
    if woman and sex != "F":
        return "day in digits 7-8 is over 40, which marks a woman, but sex is M"
    if not woman and sex == "F":
        return "sex is F, so the day in digits 7-8 must have 40 added"
    if (day, month, year) != (birth_date.day, birth_date.month, birth_date.year % 100):
        return "birth date in digits 7-12 does not match birth_date"
    return None
