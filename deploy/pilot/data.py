"""The synthetic Kotabaru pilot: organisations, residents, village priorities, opportunities,
programme stages and district targets. Pure functions of a fixed random seed, so every run
makes the same pilot; nothing here does I/O besides reading ``shared/``'s reference lists.

Every person is invented. NIKs follow the rules of DESIGN.md (issuing district, birth date with
40 added to the day for women, a serial that is not 0000) but belong to nobody.

Dates. The pilot's calendar is 2025: preparation and data collection until July, programme
synchronisation in August, the distribution trial in September, monitoring and evaluation until
the end of October. The stages carry exactly those dates; offers start in that calendar (courses
during synchronisation, work, internships, capital and mentoring with the trial). An offer's
``valid_through`` (when applications close) cannot lie in 2025, though: the catalogue closes an
offer once it has passed, and the matching engine proposes only open offers, so a pilot replayed
today would find nothing to match. Applications therefore close on 31 December of the year
after the seeding day (``applications_close``): long enough for any demo, the same for every run
within a calendar year, and stated once here rather than scattered over the items. The catalogue
also requires ``valid_through`` not after ``end_date``, so the offers carry no ``end_date``; how
long a course or internship lasts is in its description.
"""

from __future__ import annotations

import csv
import io
import math
import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from shared.programme import regions, skills
from tests.support.people import nik_for

RANDOM_SEED = 20250801
REGENCY = "63.02"
PULAULAUT_UTARA = "63.02.06"
KELUMPANG_HILIR = "63.02.17"
PILOT_DISTRICTS = (PULAULAUT_UTARA, KELUMPANG_HILIR)
TARJUN = "63.02.17.2002"
DEFAULT_RESIDENTS = 3000
# Ages are drawn as of the data collection (July 2025), the registry computes them for today.
AGE_REFERENCE = date(2025, 7, 1)
SHARE_VERIFIED = 0.88
SHARE_PRIORITISED = 0.4

# The pilot's calendar (2025).
SYNC_TRAINING_START = date(2025, 8, 18)
TRIAL_START = date(2025, 9, 1)
CAPITAL_START = date(2025, 9, 15)


def applications_close(today: date) -> date:
    """When the seeded offers stop taking applications (see the module docstring)."""
    return date(today.year + 1, 12, 31)


# Organisations -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrganisationSpec:
    """``key`` is the organisation's stable handle in the seed, the demo and the credentials
    file; ``name`` is unique at the gateway, which makes registering it again harmless."""

    key: str
    name: str
    type: str
    region_code: str | None = None
    role: str = ""


SECRETARIAT = "secretariat"
SOCIAL_AGENCY = "agency.social"
MANPOWER_AGENCY = "agency.manpower"
COOPERATIVES_AGENCY = "agency.cooperatives"
CEMENT = "company.cement"
PALM_OIL = "company.palm_oil"
SHIPPING = "company.shipping"
POLYTECHNIC = "university.polytechnic"
VOCATIONAL_SCHOOL = "school.vocational"
BUMDES_TARJUN = "bumdes.tarjun"
BUMDES_SEBELIMBINGAN = "bumdes.sebelimbingan"
NGO = "ngo.mentoring"
PROVINCE = "regional.province"


def village_key(code: str) -> str:
    return f"village.{code}"


def pilot_villages() -> list[regions.Region]:
    """The 19 villages of the two pilot districts, from the Kemendagri reference list."""
    found = [v for d in PILOT_DISTRICTS for v in regions.children_of(d) if v.level == "village"]
    return sorted(found, key=lambda v: v.code)


def village_label(region: regions.Region) -> str:
    # Codes 1xxx are kelurahan (urban wards), 2xxx desa (villages).
    return ("Kelurahan " if region.code.split(".")[-1].startswith("1") else "Desa ") + region.name


def organisations() -> list[OrganisationSpec]:
    """Every organisation of the pilot besides the secretariat, which the gateway bootstraps."""
    specs = [
        OrganisationSpec(
            SOCIAL_AGENCY,
            "Dinas Sosial Kabupaten Kotabaru",
            "government_agency",
            role="imports the national socio-economic register (DTSEN); grants KUBE capital",
        ),
        OrganisationSpec(
            MANPOWER_AGENCY,
            "Dinas Tenaga Kerja dan Transmigrasi Kabupaten Kotabaru",
            "government_agency",
            role="runs matching rounds; vocational training (BLK)",
        ),
        OrganisationSpec(
            COOPERATIVES_AGENCY,
            "Dinas Koperasi dan UKM Kabupaten Kotabaru",
            "government_agency",
            role="micro-business capital",
        ),
    ]
    specs += [
        OrganisationSpec(
            village_key(v.code),
            f"Pemerintah {village_label(v)}",
            "village_government",
            region_code=v.code,
            role="registers, verifies and prioritises its residents",
        )
        for v in pilot_villages()
    ]
    specs += [
        OrganisationSpec(
            CEMENT,
            "PT Semen Tarjun Sejahtera",
            "company",
            role="cement plant in Tarjun; its HR system pushes internships and jobs",
        ),
        OrganisationSpec(PALM_OIL, "PT Sawit Pulau Laut Makmur", "company", role="palm oil"),
        OrganisationSpec(SHIPPING, "PT Pelayaran Selat Laut Nusantara", "company", role="shipping"),
        OrganisationSpec(POLYTECHNIC, "Politeknik Pulau Laut", "university", role="training"),
        OrganisationSpec(
            VOCATIONAL_SCHOOL, "SMK Kelautan dan Perikanan Saijaan", "school", role="training"
        ),
        OrganisationSpec(
            BUMDES_TARJUN, "BUMDes Tarjun Bersatu", "bumdes", role="village enterprise"
        ),
        OrganisationSpec(
            BUMDES_SEBELIMBINGAN,
            "BUMDes Sebelimbingan Mandiri",
            "bumdes",
            role="village enterprise",
        ),
        OrganisationSpec(
            NGO,
            "Yayasan Pendamping Usaha Mikro Saijaan",
            "ngo",
            role="mentors micro-businesses; records follow-up visits",
        ),
        OrganisationSpec(
            PROVINCE,
            "Dinas Sosial Provinsi Kalimantan Selatan",
            "regional_agency",
            role="reads aggregated reports",
        ),
    ]
    return specs


# Residents ---------------------------------------------------------------------------------

MALE_NAMES = [
    "Muhammad",
    "Ahmad",
    "Rahmat",
    "Syahrani",
    "Fahrul",
    "Hendra",
    "Rusdi",
    "Saiful",
    "Arbani",
    "Junaidi",
    "Taufik",
    "Ridwan",
    "Hairil",
    "Yusran",
    "Aldi",
    "Bayu",
    "Dedi",
    "Eko",
    "Andi",
    "Baso",
    "Wayan",
    "Made",
    "Slamet",
    "Sugeng",
    "Joko",
    "Imran",
    "Rizky",
    "Firdaus",
    "Gazali",
    "Hamdan",
    "Iwan",
    "Nanang",
    "Rudi",
    "Salman",
    "Zainal",
    "Amat",
    "Jumberi",
    "Darmawan",
    "Budi",
    "Agus",
]
FEMALE_NAMES = [
    "Siti",
    "Nur",
    "Rahmah",
    "Aisyah",
    "Fatimah",
    "Noor",
    "Halimah",
    "Mardiana",
    "Rusmini",
    "Yuliani",
    "Dewi",
    "Sri",
    "Wati",
    "Ratna",
    "Rina",
    "Fitri",
    "Nurul",
    "Hasanah",
    "Ani",
    "Lestari",
    "Ketut",
    "Norhayati",
    "Mariani",
    "Salasiah",
    "Jamilah",
    "Rabiatul",
    "Erna",
    "Yanti",
    "Kartini",
    "Masitah",
    "Suryani",
    "Nurhidayah",
    "Aminah",
    "Dahlia",
    "Rosmiati",
    "Hafsah",
]
SECOND_NAMES_MALE = [
    "Hidayat",
    "Rahman",
    "Saputra",
    "Pratama",
    "Wijaya",
    "Setiawan",
    "Kurniawan",
    "Ramadhan",
    "Hakim",
    "Syahputra",
    "Firmansyah",
    "Noor",
    "Rizani",
    "Maulana",
    "Gunawan",
    "Hasan",
    "Effendi",
    "Arsyad",
    "Sulaiman",
    "Nugroho",
]
SECOND_NAMES_FEMALE = [
    "Rahmawati",
    "Lestari",
    "Wulandari",
    "Sari",
    "Handayani",
    "Puspita",
    "Anggraini",
    "Maulida",
    "Fitriani",
    "Noor",
    "Hayati",
    "Safitri",
    "Rahmah",
    "Susanti",
    "Yulianti",
    "Rusdiana",
    "Kusuma",
    "Ningsih",
    "Amalia",
    "Fauziah",
]

DECILE_WEIGHTS = (24, 24, 20, 14, 8, 4, 3, 2, 0.5, 0.5)
HOUSEHOLD_SIZE_WEIGHTS = {1: 8, 2: 14, 3: 20, 4: 22, 5: 18, 6: 11, 7: 7}
DISABILITY_KINDS = {
    "physical": 40,
    "visual": 20,
    "hearing": 15,
    "speech": 5,
    "intellectual": 10,
    "mental": 10,
}
# Where NIKs were issued: mostly the home district, some brought from elsewhere by migrants
# (Banjarmasin, Makassar, Surabaya) or from a neighbouring district of the regency.
FOREIGN_ISSUERS = ("630201", "630205", "637101", "737101", "357801")
PHONE_OPERATORS = ("11", "12", "13", "21", "22", "23", "52", "53", "77", "78", "95", "96")
SKILL_GROUP_WEIGHTS = {
    PULAULAUT_UTARA: {
        "fisheries": 3,
        "maritime": 3,
        "retail": 2,
        "food": 2,
        "construction": 2,
        "hospitality": 1.5,
        "driving": 1.5,
        "garment": 1,
        "digital": 1,
        "business": 1,
        "services": 1,
        "electrical": 1,
        "agriculture": 1,
        "welding": 0.5,
        "plantation": 0.5,
    },
    KELUMPANG_HILIR: {
        "cement": 3,
        "plantation": 3,
        "agriculture": 2,
        "construction": 2,
        "mining": 1.5,
        "driving": 1.5,
        "welding": 1,
        "electrical": 1,
        "food": 1,
        "fisheries": 1,
        "retail": 1,
        "services": 1,
        "garment": 0.5,
        "business": 0.5,
    },
}
# Relative population of the villages' poor residents of productive age.
VILLAGE_WEIGHT = {
    "63.02.06.1001": 3.0,
    "63.02.06.2009": 1.2,
    "63.02.06.2010": 1.4,
    "63.02.06.2011": 1.0,
    "63.02.06.2012": 1.1,
    "63.02.06.2013": 0.9,
    "63.02.06.2014": 1.2,
    "63.02.06.2015": 0.8,
    "63.02.06.2022": 0.9,
    "63.02.06.2025": 0.8,
    "63.02.17.2001": 1.3,
    "63.02.17.2002": 2.0,
    "63.02.17.2003": 1.0,
    "63.02.17.2004": 0.6,
    "63.02.17.2005": 0.9,
    "63.02.17.2006": 1.0,
    "63.02.17.2007": 0.8,
    "63.02.17.2008": 0.9,
    "63.02.17.2009": 0.8,
}
CONSENT_PURPOSE = "Program Sinergi: pendataan dan penyaluran kesempatan kerja"
CSV_COLUMNS = (
    "nik",
    "family_card_number",
    "full_name",
    "sex",
    "birth_date",
    "village_code",
    "address",
    "phone",
    "education_level",
    "skills",
    "employment_status",
    "monthly_income_idr",
    "household_size",
    "welfare_decile",
    "disability",
    "consent_given",
    "consent_purpose",
    "consent_at",
)


@dataclass(frozen=True, slots=True)
class ResidentRecord:
    """One row of the national register as the social agency imports it."""

    nik: str
    family_card_number: str
    full_name: str
    sex: str
    birth_date: date
    village_code: str
    address: str
    phone: str | None
    education_level: str
    skills: tuple[str, ...]
    employment_status: str
    monthly_income_idr: int
    household_size: int
    welfare_decile: int
    disability: tuple[str, ...]
    consent_at: datetime

    def age_on(self, day: date) -> int:
        before_birthday = (day.month, day.day) < (self.birth_date.month, self.birth_date.day)
        return day.year - self.birth_date.year - before_birthday

    def csv_row(self) -> dict[str, str]:
        """The same record as a row of the registry's import file (columns = JSON fields;
        lists joined with ';', a missing value an empty cell; consent in its three columns)."""
        body = self.as_json()
        consent = body.pop("consent")
        row = {name: _cell(value) for name, value in body.items()}
        row.update({f"consent_{key}": _cell(value) for key, value in consent.items()})
        return {column: row[column] for column in CSV_COLUMNS}

    def as_json(self) -> dict[str, Any]:
        """The body of ``POST /v1/residents`` for this record."""
        return {
            "nik": self.nik,
            "family_card_number": self.family_card_number,
            "full_name": self.full_name,
            "sex": self.sex,
            "birth_date": self.birth_date.isoformat(),
            "village_code": self.village_code,
            "address": self.address,
            "phone": self.phone,
            "education_level": self.education_level,
            "skills": list(self.skills),
            "employment_status": self.employment_status,
            "monthly_income_idr": self.monthly_income_idr,
            "household_size": self.household_size,
            "welfare_decile": self.welfare_decile,
            "disability": list(self.disability),
            "consent": {
                "given": True,
                "purpose": CONSENT_PURPOSE,
                "at": self.consent_at.astimezone(UTC).isoformat(),
            },
        }


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ";".join(str(item) for item in value)
    return str(value)


def district_digits(code: str) -> str:
    return code.replace(".", "")[:6]


class _Serials:
    """Serial numbers by prefix, so every generated NIK and family card number is unique."""

    def __init__(self) -> None:
        self.used: Counter[str] = Counter()

    def next(self, prefix: str) -> int:
        self.used[prefix] += 1
        return self.used[prefix]


def _weighted(rng: random.Random, weights: Mapping[Any, float]) -> Any:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _education(rng: random.Random, age: int) -> str:
    levels = ("none", "primary", "junior_secondary", "senior_secondary", "diploma", "bachelor")
    if age >= 50:
        weights: tuple[float, ...] = (15, 45, 25, 13, 1.5, 0.5)
    elif age >= 30:
        weights = (5, 30, 30, 30, 3, 2)
    else:
        weights = (2, 13, 30, 45, 5, 5)
    return rng.choices(levels, weights=weights)[0]


def _employment(rng: random.Random, age: int) -> str:
    if age < 22 and rng.random() < 0.35:
        return "student"
    return rng.choices(
        ("unemployed", "informal", "self_employed", "employed"), weights=(35, 40, 15, 10)
    )[0]


INCOME_RANGE = {
    "student": (0, 0),
    "unemployed": (0, 250_000),
    "informal": (400_000, 1_600_000),
    "self_employed": (500_000, 2_200_000),
    "employed": (1_200_000, 3_200_000),
}


def _income(rng: random.Random, employment: str, decile: int) -> int:
    low, high = INCOME_RANGE[employment]
    value = rng.uniform(low, high) * (0.7 + 0.08 * decile)
    return int(round(value, -4))


def _skills(rng: random.Random, district: str, age: int) -> tuple[str, ...]:
    by_group: dict[str, list[str]] = defaultdict(list)
    for skill in skills.skills().values():
        by_group[skill.group].append(skill.slug)
    weights = dict(SKILL_GROUP_WEIGHTS[district])
    if age < 30:
        weights["digital"] = weights.get("digital", 0) + 1.5
    chosen: list[str] = []
    for _ in range(rng.choices((0, 1, 2, 3), weights=(15, 35, 30, 20))[0]):
        group = _weighted(rng, weights)
        if by_group[group]:
            chosen.append(rng.choice(by_group[group]))
    if rng.random() < 0.25:
        chosen.append(rng.choice(by_group["transversal"]))
    return tuple(dict.fromkeys(chosen))


def _disability(rng: random.Random) -> tuple[str, ...]:
    roll = rng.random()
    if roll < 0.005:
        first = _weighted(rng, DISABILITY_KINDS)
        second = _weighted(rng, {k: w for k, w in DISABILITY_KINDS.items() if k != first})
        return (first, second)
    if roll < 0.045:
        return (_weighted(rng, DISABILITY_KINDS),)
    return ()


def _phone(rng: random.Random) -> str | None:
    if rng.random() > 0.65:
        return None
    digits = "".join(str(rng.randrange(10)) for _ in range(rng.choice((7, 8))))
    return f"08{rng.choice(PHONE_OPERATORS)}{digits}"


def _birth_date(rng: random.Random, age: int) -> date:
    # Someone aged ``age`` on AGE_REFERENCE was born within the year before that birthday.
    latest = AGE_REFERENCE.replace(year=AGE_REFERENCE.year - age)
    return latest - timedelta(days=rng.randrange(365))


def _name(rng: random.Random, sex: str) -> str:
    if sex == "M":
        return f"{rng.choice(MALE_NAMES)} {rng.choice(SECOND_NAMES_MALE)}"
    return f"{rng.choice(FEMALE_NAMES)} {rng.choice(SECOND_NAMES_FEMALE)}"


def _member_ages(rng: random.Random, registered: int) -> list[tuple[int, str]]:
    """(age, sex) of the household members the register lists: a head, maybe a spouse, maybe
    grown children; now and then an elder outside the productive age."""
    head_age = rng.randint(24, 62)
    head_sex = "M" if rng.random() < 0.8 else "F"
    members = [(head_age, head_sex)]
    if registered >= 2:
        spouse_age = max(18, min(70, head_age + rng.randint(-8, 4)))
        members.append((spouse_age, "F" if head_sex == "M" else "M"))
    for _ in range(registered - len(members)):
        child_age = max(15, min(head_age - 17, rng.randint(15, 26)))
        members.append((child_age, rng.choice("MF")))
    if rng.random() < 0.05:
        members[-1] = (rng.randint(65, 74), members[-1][1])
    return members


def generate_residents(
    count: int = DEFAULT_RESIDENTS, seed: int = RANDOM_SEED
) -> list[ResidentRecord]:
    """``count`` residents in households that share a family card, spread over the 19 villages."""
    rng = random.Random(seed)
    villages = {v.code: v for v in pilot_villages()}
    weights = {code: VILLAGE_WEIGHT.get(code, 1.0) for code in villages}
    nik_serials, card_serials = _Serials(), _Serials()
    residents: list[ResidentRecord] = []
    while len(residents) < count:
        code = _weighted(rng, weights)
        village = villages[code]
        district = regions.district_of(code) or PULAULAUT_UTARA
        home = district_digits(district)
        size = _weighted(rng, HOUSEHOLD_SIZE_WEIGHTS)
        registered = min(
            size, rng.choices((1, 2, 3), weights=(45, 40, 15))[0], count - len(residents)
        )
        issued = date(2005, 1, 1) + timedelta(days=rng.randrange(20 * 365))
        card_prefix = f"{home}{issued:%d%m%y}"
        card = f"{card_prefix}{card_serials.next(card_prefix):04d}"
        decile = rng.choices(range(1, 11), weights=DECILE_WEIGHTS)[0]
        address = (
            f"RT {rng.randint(1, 20):03d} RW {rng.randint(1, 6):03d}, {village_label(village)}"
        )
        consent_at = datetime.fromisoformat(
            f"2025-07-{rng.randint(1, 31):02d}T{rng.randint(8, 15):02d}:00:00+08:00"
        )
        for age, sex in _member_ages(rng, registered):
            birth = _birth_date(rng, age)
            issuer = home if rng.random() < 0.92 else rng.choice(FOREIGN_ISSUERS)
            day = birth.day + (40 if sex == "F" else 0)
            nik_prefix = f"{issuer}{day:02d}{birth:%m%y}"
            nik = nik_for(issuer, birth, sex, nik_serials.next(nik_prefix))
            employment = _employment(rng, age)
            residents.append(
                ResidentRecord(
                    nik=nik,
                    family_card_number=card,
                    full_name=_name(rng, sex),
                    sex=sex,
                    birth_date=birth,
                    village_code=code,
                    address=address,
                    phone=_phone(rng),
                    education_level=_education(rng, age),
                    skills=_skills(rng, district, age),
                    employment_status=employment,
                    monthly_income_idr=_income(rng, employment, decile),
                    household_size=size,
                    welfare_decile=decile,
                    disability=_disability(rng),
                    consent_at=consent_at,
                )
            )
    return residents


def residents_csv(records: Iterable[ResidentRecord]) -> bytes:
    """The import file of the national register, UTF-8 with a header row."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for record in records:
        writer.writerow(record.csv_row())
    return buffer.getvalue().encode()


@dataclass(slots=True)
class VillagePlan:
    """What a village government does with its residents once the register is imported."""

    village_code: str
    verify: list[str] = field(default_factory=list)  # NIKs
    ranking: list[str] = field(default_factory=list)  # NIKs, rank 1 first


def _in_target_group(record: ResidentRecord) -> bool:
    return 15 <= record.age_on(AGE_REFERENCE) <= 64 and record.welfare_decile <= 4


def village_plans(records: list[ResidentRecord], seed: int = RANDOM_SEED) -> list[VillagePlan]:
    """Each village verifies most of its residents and ranks part of the verified target group:
    poorest decile first, then larger households, then those without work."""
    rng = random.Random(seed + 1)
    plans: dict[str, VillagePlan] = {}
    for record in records:
        plan = plans.setdefault(record.village_code, VillagePlan(record.village_code))
        if rng.random() < SHARE_VERIFIED:
            plan.verify.append(record.nik)
    by_nik = {r.nik: r for r in records}
    work_order = {"unemployed": 0, "informal": 1, "student": 2, "self_employed": 3, "employed": 4}
    for plan in plans.values():
        candidates = [by_nik[n] for n in plan.verify if _in_target_group(by_nik[n])]
        tiebreak = {r.nik: rng.random() for r in candidates}
        candidates.sort(
            key=lambda r: (
                r.welfare_decile,
                -r.household_size,
                work_order[r.employment_status],
                tiebreak[r.nik],
            )
        )
        plan.ranking = [r.nik for r in candidates[: math.ceil(len(candidates) * SHARE_PRIORITISED)]]
    return [plans[code] for code in sorted(plans)]


# Opportunities -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OpportunitySpec:
    """One offer and the organisation that pushes it with its own credentials."""

    provider: str
    external_id: str
    fields: dict[str, Any]

    def body(self, close: date) -> dict[str, Any]:
        return {**self.fields, "valid_through": close.isoformat()}


def _offer(
    kind: str,
    title: str,
    description: str,
    *,
    location: str,
    areas: Iterable[str] = PILOT_DISTRICTS,
    slots: int,
    start: date,
    required: Iterable[str] = (),
    taught: Iterable[str] = (),
    min_age: int | None = None,
    max_age: int | None = None,
    min_education: str | None = None,
    pay: int | None = None,
    grant: int | None = None,
    sex: str = "any",
    sex_reason: str | None = None,
    disability_friendly: bool = False,
    occupation_code: str | None = None,
) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "kind": kind,
        "title": title,
        "description": description,
        "skills_required": list(required),
        "skills_taught": list(taught),
        "min_age": min_age,
        "max_age": max_age,
        "min_education": min_education,
        "sex": sex,
        "disability_friendly": disability_friendly,
        "location_village_code": location,
        "eligible_area_codes": sorted(areas),
        "slots": slots,
        "pay_idr": pay,
        "grant_amount_idr": grant,
        "start_date": start.isoformat(),
        "status": "open",
    }
    if sex_reason:
        fields["sex_reason"] = sex_reason
    if occupation_code:
        fields["occupation_code"] = occupation_code
    return fields


def _cement() -> list[OpportunitySpec]:
    internships = [
        ("Magang operator kiln", "cement-kiln-operation", "senior_secondary"),
        ("Magang pengendalian mutu semen", "cement-quality-control", "senior_secondary"),
        ("Magang perawatan konveyor", "conveyor-maintenance", "junior_secondary"),
        ("Magang pengantongan dan pengemasan", "bagging-and-packing", "junior_secondary"),
        ("Magang mekanik pabrik", "plant-mechanic", "senior_secondary"),
        ("Magang operator tambang batu kapur", "quarry-operation", "junior_secondary"),
    ]
    specs = [
        OpportunitySpec(
            CEMENT,
            f"HRIS-STS-2025-M{index:02d}",
            _offer(
                "internship",
                title,
                "Six-month internship at the Tarjun plant with a monthly stipend; "
                "safety induction in the first week.",
                location=TARJUN,
                areas=[KELUMPANG_HILIR],
                slots=5 + index % 3,
                start=TRIAL_START,
                taught=[skill, "occupational-health-safety"],
                min_age=18,
                max_age=30,
                min_education=education,
                pay=1_750_000,
            ),
        )
        for index, (title, skill, education) in enumerate(internships, start=1)
    ]
    jobs = [
        ("Petugas kebersihan industri", "industrial-cleaning", 6, "9112"),
        ("Operator pengantongan semen", "bagging-and-packing", 4, "8183"),
        ("Tenaga keamanan pabrik", "security-guard", 3, "5414"),
        ("Pengemudi dump truck tambang", "dump-truck-driving", 3, "8332"),
    ]
    specs += [
        OpportunitySpec(
            CEMENT,
            f"HRIS-STS-2025-J{index:02d}",
            _offer(
                "job",
                title,
                "One-year contract at the Tarjun plant, regency minimum wage or above.",
                location=TARJUN,
                areas=[KELUMPANG_HILIR],
                slots=slots,
                start=TRIAL_START,
                required=[skill],
                min_age=18,
                max_age=45,
                min_education="junior_secondary",
                pay=3_500_000,
                occupation_code=code,
            ),
        )
        for index, (title, skill, slots, code) in enumerate(jobs, start=1)
    ]
    return specs


def _palm_oil() -> list[OpportunitySpec]:
    jobs = [
        ("Pemanen kelapa sawit", "palm-harvesting", 15),
        ("Tenaga pemupukan kebun", "palm-fertilising", 10),
        ("Pekerja pembibitan", "palm-nursery", 8),
        ("Tenaga penyemprotan", "plantation-spraying", 8),
        ("Pengutip brondolan", "loose-fruit-collection", 12),
        ("Operator pabrik kelapa sawit", "palm-oil-mill-operation", 4),
        ("Perawatan piringan dan gulma", "plantation-weeding", 10),
        ("Petugas sortasi TBS", "ffb-grading", 4),
    ]
    specs = [
        OpportunitySpec(
            PALM_OIL,
            f"SPLM/2025/{index:03d}",
            _offer(
                "job",
                title,
                "Plantation work in Serongga estate; transport from the village provided.",
                location="63.02.17.2001",
                slots=slots,
                start=TRIAL_START,
                required=[skill],
                min_age=18,
                max_age=50,
                pay=3_100_000,
                occupation_code="9211",
            ),
        )
        for index, (title, skill, slots) in enumerate(jobs, start=1)
    ]
    specs += [
        OpportunitySpec(
            PALM_OIL,
            f"SPLM/2025/M{index:02d}",
            _offer(
                "internship",
                title,
                "Four-month internship at the Serongga mill.",
                location="63.02.17.2001",
                slots=4,
                start=TRIAL_START,
                taught=taught,
                min_age=18,
                max_age=28,
                min_education="senior_secondary",
                pay=1_500_000,
            ),
        )
        for index, (title, taught) in enumerate(
            [
                ("Magang perawatan mesin pabrik", ["generator-maintenance", "welding-smaw"]),
                ("Magang administrasi kebun", ["data-entry", "spreadsheet"]),
            ],
            start=1,
        )
    ]
    return specs


def _shipping() -> list[OpportunitySpec]:
    port = "63.02.06.1001"
    jobs = [
        ("Kelasi dek kapal feri", ["deck-rating", "basic-safety-training-maritime"], 4),
        ("Juru minyak kapal", ["engine-rating"], 3),
        ("Buruh bongkar muat pelabuhan", ["port-cargo-handling"], 8),
        ("Operator forklift pelabuhan", ["forklift-operation"], 2),
        ("Petugas loket tiket feri", ["ferry-ticketing"], 3),
    ]
    specs = [
        OpportunitySpec(
            SHIPPING,
            f"PSLN-{index:02d}",
            _offer(
                "job",
                title,
                "Work on the Kotabaru ferry and port operations.",
                location=port,
                slots=slots,
                start=TRIAL_START,
                required=required,
                min_age=18,
                max_age=45,
                min_education="junior_secondary",
                pay=3_400_000,
            ),
        )
        for index, (title, required, slots) in enumerate(jobs, start=1)
    ]
    internships = [
        ("Magang kadet dek", ["deck-rating", "basic-safety-training-maritime"]),
        ("Magang bengkel kapal", ["ship-welding", "boat-engine-repair"]),
        ("Magang administrasi pelabuhan", ["office-applications", "customer-service"]),
    ]
    specs += [
        OpportunitySpec(
            SHIPPING,
            f"PSLN-M{index:02d}",
            _offer(
                "internship",
                title,
                "Three-month internship at the Kotabaru port.",
                location=port,
                slots=3,
                start=TRIAL_START,
                taught=taught,
                min_age=18,
                max_age=30,
                min_education="senior_secondary",
                pay=1_500_000,
            ),
        )
        for index, (title, taught) in enumerate(internships, start=1)
    ]
    return specs


def _training(
    provider: str, prefix: str, location: str, courses: list[tuple[str, list[str], str | None]]
) -> list[OpportunitySpec]:
    return [
        OpportunitySpec(
            provider,
            f"{prefix}-{index:02d}",
            _offer(
                "training",
                title,
                "Six-week course with a certificate of competence; free, transport allowance paid.",
                location=location,
                slots=15 + 5 * (index % 3),
                start=SYNC_TRAINING_START if index % 2 else TRIAL_START,
                taught=taught,
                min_age=15,
                max_age=55,
                min_education=education,
                disability_friendly=index % 3 == 0,
            ),
        )
        for index, (title, taught, education) in enumerate(courses, start=1)
    ]


def _village_offers() -> list[OpportunitySpec]:
    villages = [
        "63.02.17.2002",
        "63.02.17.2001",
        "63.02.17.2003",
        "63.02.17.2004",
        "63.02.06.2009",
        "63.02.06.2010",
        "63.02.06.2012",
        "63.02.06.2022",
    ]
    names = {v.code: v for v in pilot_villages()}
    return [
        OpportunitySpec(
            village_key(code),
            f"PKT-{code.replace('.', '')}-2025",
            _offer(
                "job",
                f"Padat karya tunai {village_label(names[code])}",
                "Cash-for-work on village roads and drainage, three months, paid weekly.",
                location=code,
                areas=[code],
                slots=8 + index % 5,
                start=TRIAL_START,
                min_age=18,
                max_age=60,
                pay=1_800_000,
                disability_friendly=False,
            ),
        )
        for index, code in enumerate(villages)
    ]


def _capital(
    provider: str, prefix: str, location: str, grants: list[dict[str, Any]]
) -> list[OpportunitySpec]:
    specs = []
    for index, grant in enumerate(grants, start=1):
        extra = {k: grant[k] for k in ("sex", "sex_reason", "disability_friendly") if k in grant}
        specs.append(
            OpportunitySpec(
                provider,
                f"{prefix}-{index:02d}",
                _offer(
                    "business_capital",
                    grant["title"],
                    "A one-off grant for a micro-business, paid when the business starts, "
                    "with a business plan reviewed by a mentor.",
                    location=location,
                    areas=grant.get("areas", PILOT_DISTRICTS),
                    slots=grant["slots"],
                    start=CAPITAL_START,
                    required=grant.get("required", ()),
                    min_age=18,
                    max_age=64,
                    grant=grant["amount"],
                    **extra,
                ),
            )
        )
    return specs


def _mentoring() -> list[OpportunitySpec]:
    programmes: list[tuple[str, list[str], dict[str, Any]]] = [
        ("Pendampingan pembukuan usaha mikro", ["bookkeeping", "financial-literacy"], {}),
        ("Pendampingan pemasaran digital", ["online-selling", "social-media-marketing"], {}),
        (
            "Pendampingan perizinan dan halal",
            ["business-licensing", "halal-certification-prep"],
            {},
        ),
        ("Pendampingan kemasan produk", ["product-packaging-labelling"], {}),
        ("Pendampingan pengelolaan koperasi", ["cooperative-management"], {}),
        (
            "Pendampingan kelompok usaha perempuan",
            ["business-planning", "micro-business-management"],
            {"sex": "F", "sex_reason": "women's business groups (KUBE perempuan)"},
        ),
    ]
    return [
        OpportunitySpec(
            NGO,
            f"YPUMS-2025-{index:02d}",
            _offer(
                "mentoring",
                title,
                "Monthly visits for six months by a business mentor.",
                location="63.02.06.2014",
                slots=10 + 2 * index,
                start=TRIAL_START,
                taught=taught,
                min_age=18,
                **extra,
            ),
        )
        for index, (title, taught, extra) in enumerate(programmes, start=1)
    ]


def opportunities() -> list[OpportunitySpec]:
    """About 80 offers across every kind and provider type of the pilot."""
    specs = _cement() + _palm_oil() + _shipping()
    specs += _training(
        POLYTECHNIC,
        "PPL-2025",
        "63.02.06.2014",
        [
            ("Pelatihan las SMAW bersertifikat", ["welding-smaw"], "junior_secondary"),
            (
                "Pelatihan instalasi listrik",
                ["electrical-installation-residential"],
                "junior_secondary",
            ),
            ("Pelatihan pemasangan panel surya", ["solar-pv-installation"], "senior_secondary"),
            ("Pelatihan aplikasi perkantoran", ["computer-basics", "office-applications"], None),
            ("Pelatihan mekanik alat berat", ["heavy-equipment-mechanic"], "senior_secondary"),
            ("Pelatihan servis AC dan pendingin", ["refrigeration-ac-repair"], "junior_secondary"),
        ],
    )
    specs += _training(
        VOCATIONAL_SCHOOL,
        "SMKKP-2025",
        "63.02.06.2010",
        [
            ("Pelatihan pengolahan ikan", ["fish-processing", "food-safety-hygiene"], None),
            ("Pelatihan pengolahan rumput laut", ["seaweed-processing"], None),
            ("Pelatihan servis mesin perahu", ["boat-engine-repair"], "primary"),
            ("Pelatihan menjahit dan sasirangan", ["tailoring", "sasirangan-dyeing"], None),
            ("Pelatihan tata boga", ["catering", "food-safety-hygiene"], None),
            (
                "Basic safety training pelaut",
                ["basic-safety-training-maritime", "swimming"],
                "junior_secondary",
            ),
        ],
    )
    specs += [
        OpportunitySpec(
            BUMDES_TARJUN,
            "BTB-2025-01",
            _offer(
                "job",
                "Penjaga kios BUMDes",
                "Running the village enterprise's shop.",
                location=TARJUN,
                areas=[TARJUN],
                slots=2,
                start=TRIAL_START,
                required=["retail-sales"],
                min_age=18,
                max_age=50,
                pay=2_000_000,
            ),
        ),
        OpportunitySpec(
            BUMDES_TARJUN,
            "BTB-2025-02",
            _offer(
                "job",
                "Petugas pengangkutan sampah desa",
                "Waste collection for the village.",
                location=TARJUN,
                areas=[TARJUN],
                slots=3,
                start=TRIAL_START,
                min_age=18,
                max_age=55,
                pay=1_900_000,
            ),
        ),
        OpportunitySpec(
            BUMDES_SEBELIMBINGAN,
            "BSM-2025-01",
            _offer(
                "job",
                "Pengolah rumput laut",
                "Drying and packing seaweed for the village enterprise.",
                location="63.02.06.2010",
                areas=[PULAULAUT_UTARA],
                slots=4,
                start=TRIAL_START,
                required=["seaweed-processing"],
                min_age=18,
                max_age=55,
                pay=2_100_000,
            ),
        ),
        OpportunitySpec(
            BUMDES_SEBELIMBINGAN,
            "BSM-2025-02",
            _offer(
                "job",
                "Pemandu wisata pantai",
                "Guiding visitors on the village's beach tourism.",
                location="63.02.06.2010",
                areas=[PULAULAUT_UTARA],
                slots=2,
                start=TRIAL_START,
                required=["tour-guiding"],
                min_age=18,
                max_age=45,
                min_education="senior_secondary",
                pay=2_200_000,
            ),
        ),
    ]
    specs += _capital(
        BUMDES_TARJUN,
        "BTB-2025-MODAL",
        TARJUN,
        [{"title": "Modal usaha warung desa", "slots": 5, "amount": 2_500_000, "areas": [TARJUN]}],
    )
    specs += _capital(
        BUMDES_SEBELIMBINGAN,
        "BSM-2025-MODAL",
        "63.02.06.2010",
        [
            {
                "title": "Modal budidaya rumput laut",
                "slots": 6,
                "amount": 3_000_000,
                "areas": [PULAULAUT_UTARA],
            }
        ],
    )
    specs += _mentoring()
    specs += _training(
        MANPOWER_AGENCY,
        "BLK-2025",
        "63.02.06.1001",
        [
            ("Pelatihan mengemudi SIM B1", ["driving-licence-b1"], "primary"),
            ("Pelatihan servis sepeda motor", ["motorcycle-repair"], "primary"),
            ("Pelatihan las GMAW", ["welding-gmaw"], "junior_secondary"),
            ("Pelatihan instalasi listrik rumah", ["electrical-installation-residential"], None),
            ("Pelatihan barista", ["coffee-barista"], None),
            ("Pelatihan tata graha hotel", ["housekeeping", "laundry-service"], None),
            ("Pelatihan operator ekskavator", ["heavy-equipment-excavator"], "junior_secondary"),
            ("Pelatihan servis telepon seluler", ["mobile-phone-repair"], None),
        ],
    )
    specs += [
        OpportunitySpec(
            MANPOWER_AGENCY,
            "BLK-2025-KERJA-01",
            _offer(
                "job",
                "Tukang bangunan proyek jalan kabupaten",
                "Regency road works, one season.",
                location="63.02.06.2011",
                slots=10,
                start=TRIAL_START,
                required=["masonry"],
                min_age=18,
                max_age=55,
                pay=3_000_000,
            ),
        ),
        OpportunitySpec(
            MANPOWER_AGENCY,
            "BLK-2025-KERJA-02",
            _offer(
                "job",
                "Operator alat berat (penempatan kerja)",
                "Placement with a contractor of the regency.",
                location="63.02.17.2003",
                slots=3,
                start=TRIAL_START,
                required=["heavy-equipment-excavator"],
                min_age=20,
                max_age=50,
                min_education="junior_secondary",
                pay=4_200_000,
            ),
        ),
    ]
    specs += _capital(
        COOPERATIVES_AGENCY,
        "DISKOP-2025",
        "63.02.06.1001",
        [
            {
                "title": "Modal usaha warung sembako",
                "slots": 12,
                "amount": 4_000_000,
                "required": ["retail-sales"],
            },
            {
                "title": "Modal usaha katering rumahan",
                "slots": 10,
                "amount": 4_000_000,
                "required": ["catering"],
            },
            {
                "title": "Modal usaha jahit",
                "slots": 8,
                "amount": 3_500_000,
                "required": ["tailoring"],
            },
            {
                "title": "Modal usaha ikan asin",
                "slots": 10,
                "amount": 3_000_000,
                "required": ["fish-drying"],
            },
            {
                "title": "Modal ternak ayam kampung",
                "slots": 10,
                "amount": 3_500_000,
                "required": ["poultry-farming"],
            },
            {
                "title": "Modal bengkel sepeda motor",
                "slots": 8,
                "amount": 5_000_000,
                "required": ["motorcycle-repair"],
            },
        ],
    )
    specs += _capital(
        SOCIAL_AGENCY,
        "DINSOS-KUBE-2025",
        "63.02.06.1001",
        [
            {"title": "Bantuan modal KUBE", "slots": 20, "amount": 3_000_000},
            {
                "title": "Bantuan modal KUBE perempuan kepala keluarga",
                "slots": 15,
                "amount": 3_000_000,
                "sex": "F",
                "sex_reason": "women heads of household (KUBE perempuan)",
            },
            {
                "title": "Bantuan modal usaha penyandang disabilitas",
                "slots": 10,
                "amount": 3_500_000,
                "disability_friendly": True,
            },
            {"title": "Bantuan modal usaha pemuda", "slots": 10, "amount": 2_000_000},
        ],
    )
    specs += _village_offers()
    return specs


# Programme stages and targets --------------------------------------------------------------

STAGES: dict[str, dict[str, Any]] = {
    "preparation": {
        "planned_start": "2025-06-02",
        "planned_end": "2025-07-11",
        "actual_start": "2025-06-02",
        "actual_end": "2025-07-11",
        "status": "done",
    },
    "data_integration": {
        "planned_start": "2025-07-14",
        "planned_end": "2025-08-01",
        "actual_start": "2025-07-14",
        "actual_end": "2025-08-08",
        "status": "done",
    },
    "program_sync": {
        "planned_start": "2025-08-04",
        "planned_end": "2025-08-29",
        "actual_start": "2025-08-11",
        "actual_end": "2025-08-29",
        "status": "done",
    },
    "distribution_trial": {
        "planned_start": "2025-09-01",
        "planned_end": "2025-09-30",
        "actual_start": "2025-09-01",
        "actual_end": None,
        "status": "in_progress",
    },
    "monitoring_evaluation": {
        "planned_start": "2025-10-01",
        "planned_end": "2025-10-31",
        "actual_start": None,
        "actual_end": None,
        "status": "planned",
    },
}

TARGETS = [
    {
        "district_code": PULAULAUT_UTARA,
        "residents_to_place": 300,
        "residents_to_become_independent": 120,
    },
    {
        "district_code": KELUMPANG_HILIR,
        "residents_to_place": 250,
        "residents_to_become_independent": 100,
    },
]
