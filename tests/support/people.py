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


class UniqueNiks:
    """Valid NIKs, none twice: each district and birth date counts its own serials from 0001."""

    def __init__(self) -> None:
        self._serials: dict[str, int] = {}

    def __call__(self, district_code: str, birth_date: date, sex: str) -> str:
        issuer = district_code.replace(".", "")
        head = nik_for(issuer, birth_date, sex, 1)[:-4]
        serial = self._serials.get(head, 0) + 1
        if serial > 9999:
            raise ValueError("more than 9,999 residents share a district and birth date")
        self._serials[head] = serial
        return nik_for(issuer, birth_date, sex, serial)
