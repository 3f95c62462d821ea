"""Synthetic, seeded programme data: residents with valid NIKs in the villages of Kabupaten
Kotabaru (regency 63.02), as a village operator would type them, and the non-personal columns
the read models hold. Every name, NIK and phone number here is made up."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, timedelta
from functools import cache
from typing import Any

from shared.programme.education import EDUCATION_LEVELS as LADDER
from shared.programme.regions import regions
from shared.programme.skills import skills
from tests.support.people import UniqueNiks
from tests.support.places import REGENCY

# The ladder below postgraduate: the bench's population has none.
EDUCATION_LEVELS = LADDER[:-1]
EDUCATION_WEIGHTS = (5, 25, 25, 35, 5, 5)
EMPLOYMENT = ("unemployed", "informal", "employed", "self_employed", "student")
EMPLOYMENT_WEIGHTS = (40, 35, 10, 10, 5)
GIVEN = [
    "Ahmad",
    "Budi",
    "Citra",
    "Dewi",
    "Eko",
    "Fitri",
    "Gusti",
    "Hadi",
    "Indah",
    "Joko",
    "Kartini",
    "Lestari",
    "Muhammad",
    "Nur",
    "Putri",
    "Rahmat",
    "Siti",
    "Taufik",
    "Utami",
    "Wahyu",
    "Yuni",
    "Zainal",
    "Aulia",
    "Bayu",
    "Dimas",
    "Rina",
    "Sari",
    "Agus",
]
FAMILY = [
    "Saputra",
    "Hidayat",
    "Rahman",
    "Wijaya",
    "Kusuma",
    "Lestari",
    "Pratama",
    "Setiawan",
    "Susanto",
    "Nugroho",
    "Anwar",
    "Hakim",
    "Syahputra",
    "Maulana",
    "Ramadhan",
    "Fauzi",
    "Halim",
    "Irawan",
]
# Birth years of productive age (15-64) in 2026, with a few outside it, as real lists have.
FIRST_BIRTH = date(1958, 1, 1)
LAST_BIRTH = date(2011, 12, 31)


@cache
def villages() -> tuple[str, ...]:
    """Village codes of the regency from the Kemendagri reference list."""
    return tuple(
        sorted(
            code
            for code, region in regions().items()
            if region.level == "village" and code.startswith(REGENCY + ".")
        )
    )


@cache
def skill_slugs() -> tuple[str, ...]:
    return tuple(sorted(skills()))


def residents(count: int, seed: int) -> Iterator[dict[str, Any]]:
    """Residents as ``POST /v1/residents`` and the import file take them (personal fields
    included: they are synthetic)."""
    rng = random.Random(seed)
    village_codes = villages()
    slugs = skill_slugs()
    make_nik = UniqueNiks()
    span = (LAST_BIRTH - FIRST_BIRTH).days
    household: dict[str, Any] = {}
    for index in range(count):
        # About three residents per family card, living in the same village, sharing the
        # household's size and welfare decile as in the socio-economic register.
        if index % 3 == 0:
            village = rng.choice(village_codes)
            household = {
                "village": village,
                "card": f"{village[:8].replace('.', '')}{rng.randrange(10**9, 10**10)}",
                "size": rng.randint(3, 7),
                "decile": rng.choices(range(1, 11), weights=(20, 18, 15, 12, 9, 8, 6, 5, 4, 3))[0],
            }
        village = household["village"]
        district = village.rsplit(".", 1)[0]
        sex = rng.choice("MF")
        birth = FIRST_BIRTH + timedelta(days=rng.randrange(span))
        yield {
            "nik": make_nik(district, birth, sex),
            "family_card_number": household["card"],
            "full_name": f"{rng.choice(GIVEN)} {rng.choice(FAMILY)}",
            "sex": sex,
            "birth_date": birth.isoformat(),
            "village_code": village,
            "address": f"Jl. Bench No. {rng.randint(1, 300)}, RT {rng.randint(1, 20):02d}",
            "phone": f"08{rng.randint(11, 59)}{rng.randrange(10**7, 10**8)}",
            "education_level": rng.choices(EDUCATION_LEVELS, EDUCATION_WEIGHTS)[0],
            "skills": rng.sample(slugs, rng.randint(0, 3)),
            "employment_status": rng.choices(EMPLOYMENT, EMPLOYMENT_WEIGHTS)[0],
            "monthly_income_idr": rng.randrange(0, 3_000_000, 50_000),
            "household_size": household["size"],
            "welfare_decile": household["decile"],
            "disability": ["physical"] if rng.random() < 0.02 else [],
        }
