"""Invented people for tests, the bench and the pilot: one NIK encoder for all of them.

NIKs follow DESIGN.md's rules (issuing district, birth date with 40 added to the day for women,
a serial that is not 0000) but belong to nobody."""

from __future__ import annotations

from datetime import date


def nik_for(issuer: str, birth_date: date, sex: str, serial: int) -> str:
    """A NIK by DESIGN.md's rules: issuing district, DDMMYY (+40 on the day for women), serial."""
    if not 1 <= serial <= 9999:
        raise ValueError("a NIK serial is 0001-9999")
    day = birth_date.day + (40 if sex == "F" else 0)
    return f"{issuer}{day:02d}{birth_date.month:02d}{birth_date.year % 100:02d}{serial:04d}"
