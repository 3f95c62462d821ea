"""Synthetic residents of the pilot villages for fault and security tests: valid NIKs that
agree with sex and birth date, names and phones that are obviously fake."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from tests.support.people import nik_for
from tests.support.places import MEGASARI, SEBELIMBINGAN, STAGEN, TARJUN

PILOT_VILLAGES = (TARJUN, MEGASARI, SEBELIMBINGAN, STAGEN)


def serial_nik(serial: int, sex: str, birth: date, district: str = "630217") -> str:
    """The fault tests number residents past 9,999; the serial wraps, never to 0000."""
    return nik_for(district, birth, sex, serial % 10_000 or 1)


def resident_body(n: int, *, village_code: str = TARJUN, **overrides: Any) -> dict[str, Any]:
    """The ``n``-th synthetic resident: unique NIK per ``n`` below 10,000 per birth date."""
    sex = "F" if n % 2 else "M"
    birth = date(1990, 1, 1) + timedelta(days=(n * 37) % 9000)
    body: dict[str, Any] = {
        "nik": serial_nik(n + 1, sex, birth),
        "family_card_number": f"6302{n + 1:012d}",
        "full_name": f"Warga Uji {n:05d}",
        "sex": sex,
        "birth_date": birth.isoformat(),
        "village_code": village_code,
        "address": f"Jalan Uji No. {n}",
        "phone": f"+62812{n + 1:07d}",
        "education_level": "senior_secondary",
        "skills": [],
        "employment_status": "unemployed",
        "household_size": 4,
        "welfare_decile": 1 + n % 4,
    }
    body.update(overrides)
    return body
