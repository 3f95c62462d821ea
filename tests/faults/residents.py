"""Synthetic residents of the pilot villages for fault and security tests: valid NIKs that
agree with sex and birth date, names and phones that are obviously fake."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

TARJUN = "63.02.17.2002"
PILOT_VILLAGES = ("63.02.17.2002", "63.02.06.2009", "63.02.06.2010", "63.02.06.2011")


def nik_for(serial: int, sex: str, birth: date, district: str = "630217") -> str:
    day = birth.day + (40 if sex == "F" else 0)
    return f"{district}{day:02d}{birth.month:02d}{birth.year % 100:02d}{serial % 10_000 or 1:04d}"


def resident_body(n: int, *, village_code: str = TARJUN, **overrides: Any) -> dict[str, Any]:
    """The ``n``-th synthetic resident: unique NIK per ``n`` below 10,000 per birth date."""
    sex = "F" if n % 2 else "M"
    birth = date(1990, 1, 1) + timedelta(days=(n * 37) % 9000)
    body: dict[str, Any] = {
        "nik": nik_for(n + 1, sex, birth),
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
