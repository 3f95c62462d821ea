"""The synthetic Kotabaru pilot: organisations, residents, village priorities, opportunities,
programme stages and district targets. Pure functions of a fixed random seed, so every run
makes the same pilot; nothing here does I/O besides reading its own ``reference/`` files and
``shared/``'s reference lists.

What the pilot holds is in ``reference/*.toml`` (where and when, the organisations, the offers,
the stages and targets, the names and weights residents are drawn from); this module reads those
files once, at import, and keeps the shape of the random draw, which is code. The values below
keep the names and types the seed, the demo and the tests have always used.

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
import tomllib
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from services.registry.imports.rows import COLUMNS as IMPORT_COLUMNS
from shared.programme import regions, skills
from tests.support.people import nik_for

REFERENCE = Path(__file__).parent / "reference"


def _reference(name: str) -> dict[str, Any]:
    with (REFERENCE / name).open("rb") as handle:
        return tomllib.load(handle)


_PILOT = _reference("pilot.toml")
_POPULATION = _reference("population.toml")

RANDOM_SEED: int = _PILOT["random_seed"]
REGENCY: str = _PILOT["area"]["regency"]
PULAULAUT_UTARA: str = _PILOT["area"]["pulaulaut_utara"]
KELUMPANG_HILIR: str = _PILOT["area"]["kelumpang_hilir"]
PILOT_DISTRICTS = (PULAULAUT_UTARA, KELUMPANG_HILIR)
TARJUN: str = _PILOT["area"]["tarjun"]
DEFAULT_RESIDENTS: int = _PILOT["residents"]
# Ages are drawn as of the data collection (July 2025), the registry computes them for today.
AGE_REFERENCE: date = _PILOT["calendar"]["age_reference"]
SHARE_VERIFIED: float = _PILOT["villages"]["share_verified"]
SHARE_PRIORITISED: float = _PILOT["villages"]["share_prioritised"]

# The pilot's calendar (2025).
SYNC_TRAINING_START: date = _PILOT["calendar"]["sync_training_start"]
TRIAL_START: date = _PILOT["calendar"]["trial_start"]
CAPITAL_START: date = _PILOT["calendar"]["capital_start"]


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


# The handles the seed and the demo name in code; reference/organisations.toml lists them all.
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
    listed = _reference("organisations.toml")
    village = listed["village_governments"]
    specs = [OrganisationSpec(**spec) for spec in listed["agencies"]]
    specs += [
        OrganisationSpec(
            village_key(v.code),
            village["name"].format(label=village_label(v)),
            village["type"],
            region_code=v.code,
            role=village["role"],
        )
        for v in pilot_villages()
    ]
    specs += [OrganisationSpec(**spec) for spec in listed["partners"]]
    return specs


# Residents ---------------------------------------------------------------------------------

_NAMES = _reference("names.toml")
MALE_NAMES: list[str] = _NAMES["male"]
FEMALE_NAMES: list[str] = _NAMES["female"]
SECOND_NAMES_MALE: list[str] = _NAMES["second_male"]
SECOND_NAMES_FEMALE: list[str] = _NAMES["second_female"]

DECILE_WEIGHTS: tuple[float, ...] = tuple(_POPULATION["welfare_decile_weights"])
# TOML keys are text; the household size is a number.
HOUSEHOLD_SIZE_WEIGHTS: dict[int, float] = {
    int(size): weight for size, weight in _POPULATION["household_size_weights"].items()
}
DISABILITY_KINDS: dict[str, float] = _POPULATION["disability_weights"]
FOREIGN_ISSUERS: tuple[str, ...] = tuple(_POPULATION["foreign_nik_issuers"])
PHONE_OPERATORS: tuple[str, ...] = tuple(_POPULATION["phone_operators"])
SKILL_GROUP_WEIGHTS: dict[str, dict[str, float]] = _POPULATION["skill_group_weights"]
# Relative population of the villages' poor residents of productive age.
VILLAGE_WEIGHT: dict[str, float] = _POPULATION["village_weights"]
# Highest education by age band, oldest band first (reference/population.toml).
_EDUCATION: list[dict[str, Any]] = _POPULATION["education"]
_EMPLOYMENT_WEIGHTS: dict[str, float] = _POPULATION["employment_weights"]
CONSENT_PURPOSE: str = _PILOT["consent"]["purpose"]
# The registry's import format, not pilot data: its columns, in its order (ResidentRecord.as_json
# gives the values).
CSV_COLUMNS = IMPORT_COLUMNS


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
        """The body of ``POST /v1/residents`` for this record: its fields under their own
        names, in JSON's types, with the consent as the registry records it."""
        body = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "consent_at"}
        return body | {
            "birth_date": self.birth_date.isoformat(),
            "skills": list(self.skills),
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
    band = next(band for band in _EDUCATION if age >= band["min_age"])
    levels: list[str] = band["levels"]
    return rng.choices(levels, weights=band["weights"])[0]


def _employment(rng: random.Random, age: int) -> str:
    if age < 22 and rng.random() < 0.35:
        return "student"
    status: str = _weighted(rng, _EMPLOYMENT_WEIGHTS)
    return status


INCOME_RANGE: dict[str, tuple[int, int]] = {
    status: (low, high) for status, (low, high) in _POPULATION["income_range"].items()
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
    return import_file(record.csv_row() for record in records)


def import_file(rows: Iterable[Mapping[str, str]]) -> bytes:
    """Rows of the registry's import format as its file: UTF-8, a header row, one line a row."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
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


# The body's fields in the order the seed posts them, each with what an offer of
# reference/opportunities.toml gets when it leaves the field out (None where every offer must
# give one: _OFFER_REQUIRED); sex_reason and occupation_code are sent only when an offer has them.
_OFFER_DEFAULTS: dict[str, Any] = {
    "kind": None,
    "title": None,
    "description": None,
    "skills_required": [],
    "skills_taught": [],
    "min_age": None,
    "max_age": None,
    "min_education": None,
    "sex": "any",
    "disability_friendly": False,
    "location_village_code": None,
    "eligible_area_codes": PILOT_DISTRICTS,
    "slots": None,
    "pay_idr": None,
    "grant_amount_idr": None,
    "start_date": None,
}
_OFFER_OPTIONAL = ("sex_reason", "occupation_code")
_OFFER_REQUIRED = (
    "provider",
    "external_id",
    "kind",
    "title",
    "description",
    "location_village_code",
    "slots",
    "start_date",
)


def _offer_fields(listed: Mapping[str, Any]) -> dict[str, Any]:
    unknown = (
        set(listed) - set(_OFFER_DEFAULTS) - set(_OFFER_OPTIONAL) - {"provider", "external_id"}
    )
    missing = [name for name in _OFFER_REQUIRED if listed.get(name) is None]
    if unknown or missing:
        raise ValueError(
            f"reference/opportunities.toml, {listed.get('external_id')}: "
            f"unknown fields {sorted(unknown)}, missing {missing}"
        )
    fields = {name: listed.get(name, default) for name, default in _OFFER_DEFAULTS.items()}
    fields["skills_required"] = list(fields["skills_required"])
    fields["skills_taught"] = list(fields["skills_taught"])
    fields["eligible_area_codes"] = sorted(fields["eligible_area_codes"])
    fields["start_date"] = fields["start_date"].isoformat()
    fields["status"] = "open"
    fields.update({name: listed[name] for name in _OFFER_OPTIONAL if listed.get(name)})
    return fields


def opportunities() -> list[OpportunitySpec]:
    """About 80 offers across every kind and provider type of the pilot."""
    specs = []
    for group in _reference("opportunities.toml")["group"]:
        shared = {name: value for name, value in group.items() if name != "offer"}
        for offer in group["offer"]:
            listed = {**shared, **offer}
            specs.append(
                OpportunitySpec(listed["provider"], listed["external_id"], _offer_fields(listed))
            )
    return specs


# Programme stages and targets --------------------------------------------------------------

_PROGRAMME = _reference("programme.toml")
_STAGE_FIELDS = ("planned_start", "planned_end", "actual_start", "actual_end", "status")


def _text(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


# A stage that has not started or ended yet leaves its actual dates out of the file: None here.
STAGES: dict[str, dict[str, Any]] = {
    name: {key: _text(stage.get(key)) for key in _STAGE_FIELDS}
    for name, stage in _PROGRAMME["stages"].items()
}
TARGETS: list[dict[str, Any]] = _PROGRAMME["targets"]
